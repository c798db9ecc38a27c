/**
 * A sink's delivery cursor, kept in the (untrusted) database and signed by
 * the HSM signing key, so a restart resumes delivery where it stopped and
 * nobody who can edit the file can make the appliance skip events.
 *
 * The cursor says "every event up to seq S, whose chain hash is H, reached
 * this sink or was not for it". It is signed over a domain label, the
 * keychain id, the sink's identity (name, transport and target: pointing a
 * sink at another SIEM does not carry its position over) and S, H and the
 * saving time. At load it must (1) carry a valid signature and (2) name an
 * event the trail holds with that very hash (a cursor from another trail, a
 * restored older trail, or a forged position fails). A cursor that fails
 * either is rejected: the sink resumes from the oldest event its spool bound
 * allows, so the worst an attacker gets is events sent twice (same seq and
 * hash, which a SIEM recognises), never events skipped; and the rejection is
 * recorded in the trail (sinks/sink-events.ts).
 *
 * What the signature cannot stop: putting back an older cursor of the same
 * sink (replay). That only moves the sink back: duplicates, no loss.
 *
 * The signing is the HSM's (its key never leaves the token) and verifying
 * needs only the public key, so cursors work while the keychain is sealed.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { Clock, isoNow } from '../common/clock';
import { HsmPort } from '../hsm/hsm-port';
import { AuditStore, SinkCursorRecord } from '../storage/audit-store';

const CURSOR_LABEL = 'strongroom/audit-sink-cursor/v1';

/** Where a sink stands: the last event handled (seq 0 and an empty hash: none). */
export interface CursorPosition {
  readonly seq: number;
  readonly hash: Buffer;
}

/** Why a stored cursor was not used. */
export type CursorRejection = 'bad-signature' | 'not-in-trail';

export type CursorLoad =
  | { readonly state: 'valid'; readonly position: CursorPosition }
  | { readonly state: 'missing' }
  | { readonly state: 'rejected'; readonly reason: CursorRejection; readonly storedSeq: number };

/** The sink as the cursor names it: a cursor is only good for the sink (and SIEM) it was saved for. */
export function sinkIdentity(name: string, transport: string, target: string): string {
  return `${name}\n${transport}\n${target}`;
}

/** The exact bytes a cursor signs (each part length-prefixed, so no two inputs give the same message). */
export function cursorMessage(keychainId: string, identity: string, seq: number, hash: Buffer, savedAt: string): Buffer {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  const parts = [Buffer.from(CURSOR_LABEL), Buffer.from(keychainId, 'utf8'), Buffer.from(identity, 'utf8'), seqBytes, hash, Buffer.from(savedAt, 'utf8')];
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(part.length);
      return [length, part];
    }),
  );
}

/** Saves and loads the signed cursors of one appliance's sinks. */
export interface CursorKeeper {
  load(sink: string, identity: string): Promise<CursorLoad>;
  save(sink: string, identity: string, position: CursorPosition): Promise<void>;
}

export interface HsmCursorKeeperOptions {
  readonly audit: AuditStore;
  readonly keychainId: string;
  /** The HSM (opened on demand; the sinks wait for it before resuming). */
  readonly hsm: () => Promise<HsmPort>;
  readonly clock: Clock;
}

export class HsmCursorKeeper implements CursorKeeper {
  constructor(private readonly options: HsmCursorKeeperOptions) {}

  async load(sink: string, identity: string): Promise<CursorLoad> {
    const stored = this.options.audit.readSinkCursor(sink);
    if (stored === null) return { state: 'missing' };
    const publicKey = await (await this.options.hsm()).signingPublicKey();
    if (!this.signatureValid(publicKey, identity, stored)) return { state: 'rejected', reason: 'bad-signature', storedSeq: stored.seq };
    if (stored.seq === 0) return { state: 'valid', position: { seq: 0, hash: Buffer.alloc(0) } };
    const [record] = this.options.audit.readAuditRecords(stored.seq, 1);
    if (record === undefined || record.seq !== stored.seq || !record.hash.equals(stored.hash)) return { state: 'rejected', reason: 'not-in-trail', storedSeq: stored.seq };
    return { state: 'valid', position: { seq: stored.seq, hash: Buffer.from(stored.hash) } };
  }

  async save(sink: string, identity: string, position: CursorPosition): Promise<void> {
    const savedAt = isoNow(this.options.clock);
    const digest = createHash('sha256').update(cursorMessage(this.options.keychainId, identity, position.seq, position.hash, savedAt)).digest();
    const signature = await (await this.options.hsm()).signDigest(digest);
    this.options.audit.writeSinkCursor({ sink, seq: position.seq, hash: Buffer.from(position.hash), savedAt, signature });
  }

  private signatureValid(publicKeyPem: string, identity: string, stored: SinkCursorRecord): boolean {
    try {
      const message = cursorMessage(this.options.keychainId, identity, stored.seq, stored.hash, stored.savedAt);
      return verify('sha256', message, { key: createPublicKey(publicKeyPem), dsaEncoding: 'ieee-p1363' }, stored.signature);
    } catch {
      return false;
    }
  }
}
