/**
 * Streamed AES-GCM encryption: one GCM encryption whose data comes in
 * parts over several requests (KMIP's Init Indicator, Correlation Value and
 * Final Indicator; the native Encrypt's streamInit, stream, streamFinal:
 * docs/protocol.md §6.1). The cipher state between parts is the OpenSSL
 * context of one node:crypto CipherGCM (key schedule, counter, GHASH), held
 * here in memory only: never written anywhere, so a restart ends every
 * stream. A stream ends at its final part (the tag is answered), or is
 * dropped when it idles past `idleMs` (the injected clock decides), when the
 * appliance is sealed (any seal bumps the keychain's seal generation; a
 * stream of an earlier one is gone), or when its client cancels it by
 * starting no more. A dropped or ended context is finalised at once
 * (OpenSSL's context is freed, and its key schedule cleansed, when node
 * collects the object: JavaScript cannot free it sooner, and nothing else
 * holds it).
 *
 * A stream is named by a correlation value of 16 random bytes (128 bits:
 * unguessable) and bound to the client that started it and its instance:
 * another client presenting it is refused (STREAM_NOT_YOURS), as is a part
 * naming another instance. Bounded: at most `perClient` open streams per
 * client and `total` in all (STREAM_LIMIT_REACHED before anything is
 * counted); idle streams are swept at every stream operation, so a full
 * table frees itself as clients come back. Each part is a request through
 * the dispatcher (identity, access, sealed checks every time): the stream
 * holds no right of its own.
 */
import { createHash, randomBytes, CipherGCM } from 'node:crypto';
import { Clock } from '../common/clock';
import { KeychainError, ValidationError } from '../common/errors';
import { GCM_STREAM_CORRELATION_BYTES } from './vocabulary/cipher-modes';

export interface GcmStreamLimits {
  readonly perClient: number;
  readonly total: number;
  /** A stream untouched this long is dropped. */
  readonly idleMs: number;
}

export const DEFAULT_GCM_STREAM_LIMITS: GcmStreamLimits = { perClient: 4, total: 256, idleMs: 60_000 };

export const CORRELATION_BYTES = GCM_STREAM_CORRELATION_BYTES;

/** Why a stream stopped, for the trail. */
export type StreamEnd = 'finished' | 'expired' | 'sealed' | 'failed';

export interface StreamDropped {
  readonly client: string;
  readonly instance: string;
  /** The stream's trail name (streamLabel): never the correlation value itself. */
  readonly stream: string;
  readonly reason: StreamEnd;
}

interface OpenStream {
  readonly client: string;
  readonly instance: string;
  readonly cipher: CipherGCM;
  readonly sealGeneration: number;
  lastUsedMs: number;
  /** A part is being worked on: a second request for the same stream at once is refused, not interleaved. */
  busy: boolean;
}

/**
 * The name a stream goes by in the trail and in logs: a digest of its
 * correlation value, so the trail can tie a stream's start, parts and end
 * together without holding the value that continues it.
 */
export function streamLabel(correlation: Buffer): string {
  return createHash('sha256').update(correlation).digest('hex').slice(0, 16);
}

export class GcmStreams {
  private readonly streams = new Map<string, OpenStream>();

  constructor(
    private readonly clock: Clock,
    private readonly sealGeneration: () => number,
    private readonly limits: GcmStreamLimits = DEFAULT_GCM_STREAM_LIMITS,
    private readonly onDropped: (dropped: StreamDropped) => void = () => undefined,
  ) {}

  get openCount(): number {
    return this.streams.size;
  }

  /** Refuses a new stream of `client` when the table is full: call before the start does anything that counts. */
  admit(client: string): void {
    this.sweep();
    const mine = [...this.streams.values()].filter((stream) => stream.client === client).length;
    if (mine >= this.limits.perClient || this.streams.size >= this.limits.total) {
      const which = mine >= this.limits.perClient ? `client "${client}" has ${mine} open streams, the most one client may have` : `${this.streams.size} streams are open, the most the appliance holds`;
      throw new KeychainError('STREAM_LIMIT_REACHED', `${which}: finish one (its final part) or let it idle out (${Math.round(this.limits.idleMs / 1000)} s)`, {
        details: { perClient: this.limits.perClient, total: this.limits.total },
      });
    }
  }

  /** Holds a started cipher for its client; returns the correlation value that continues it. */
  add(client: string, instance: string, cipher: CipherGCM): Buffer {
    const correlation = randomBytes(CORRELATION_BYTES);
    this.streams.set(correlation.toString('hex'), { client, instance, cipher, sealGeneration: this.sealGeneration(), lastUsedMs: this.clock.nowMs(), busy: false });
    return correlation;
  }

  /**
   * Runs one part on the stream `correlation` names, for `client` and
   * `instance`: `final` ends it and `work` gets the cipher to finish. A
   * part that throws ends the stream (its cipher state is no longer one the
   * client can know).
   */
  part<T>(correlation: Buffer, client: string, instance: string, final: boolean, work: (cipher: CipherGCM) => T): T {
    this.sweep();
    const key = correlation.toString('hex');
    const stream = this.streams.get(key);
    if (stream === undefined) {
      throw new KeychainError('STREAM_NOT_FOUND', 'no open stream has that correlation value: it ended (its final part), idled out, was dropped when the appliance sealed or restarted, or was never given', {
        details: { stream: streamLabel(correlation) },
      });
    }
    if (stream.client !== client) {
      throw new KeychainError('STREAM_NOT_YOURS', 'the stream was started by another client: only the client that started a stream may continue it', { details: { stream: streamLabel(correlation) } });
    }
    if (stream.instance !== instance) throw new ValidationError(`the stream encrypts under instance ${stream.instance}, not ${instance}`);
    if (stream.busy) throw new ValidationError('a part of this stream is being worked on: send its parts one after another');
    stream.busy = true;
    try {
      const result = work(stream.cipher);
      stream.lastUsedMs = this.clock.nowMs();
      if (final) this.drop(key, 'finished');
      return result;
    } catch (err) {
      this.drop(key, 'failed');
      throw err;
    } finally {
      stream.busy = false;
    }
  }

  /** Drops the idle streams and those of an earlier seal. */
  sweep(): void {
    const now = this.clock.nowMs();
    const generation = this.sealGeneration();
    for (const [key, stream] of this.streams) {
      if (stream.sealGeneration !== generation) this.drop(key, 'sealed');
      else if (!stream.busy && now - stream.lastUsedMs >= this.limits.idleMs) this.drop(key, 'expired');
    }
  }

  private drop(key: string, reason: StreamEnd): void {
    const stream = this.streams.get(key);
    if (stream === undefined) return;
    this.streams.delete(key);
    if (reason !== 'finished') {
      // Ends the OpenSSL context now rather than leaving a live one to the collector; its output (a tag) goes nowhere.
      try {
        stream.cipher.final();
      } catch {
        // Already finished: nothing more to end.
      }
    }
    this.onDropped({ client: stream.client, instance: stream.instance, stream: streamLabel(Buffer.from(key, 'hex')), reason });
  }
}
