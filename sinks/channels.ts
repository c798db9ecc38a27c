/**
 * Where a sink's bytes go: an appended file, UDP datagrams, or a TCP or TLS
 * stream (RELP, which the SIEM acknowledges, is sinks/relp-channel.ts). A channel connects lazily on the first send and again after a
 * failure; send() resolves once the bytes are handed to the OS (a TCP
 * write callback; syslog over TCP has no acknowledgement, RFC 6587) and
 * rejects on any failure, so the queue retries. Every wait is bounded:
 * connecting, and a write the peer does not take (a stuck SIEM), give up
 * after named limits and tear the connection down. close() never waits.
 */
import { createSocket, Socket as UdpSocket } from 'node:dgram';
import { FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect, ConnectionOptions } from 'node:tls';
import { Timers } from '../common/timers';

/** A SIEM that does not accept a connection in this time is retried later. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** A write the SIEM does not drain in this time (its window is full) counts as failed. */
export const WRITE_TIMEOUT_MS = 30_000;

/** What a sink writes: text (a JSON line, an octet-counted frame) or a datagram's bytes. */
export type Chunk = string | Buffer;

/** One write of a batch: the texts are joined and encoded once. */
export function joinChunks(chunks: readonly Chunk[]): Buffer {
  if (chunks.every((chunk) => typeof chunk === 'string')) return Buffer.from(chunks.join(''), 'utf8');
  return Buffer.concat(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)));
}

export interface Channel {
  send(chunks: readonly Chunk[]): Promise<void>;
  readonly connected: boolean;
  close(): void;
}

/**
 * Appends to a file (the JSON-lines sink), opened once and reopened after an
 * error. A missing folder is made (0700, like the data folder): the
 * documented `path=audit/trail.jsonl` would otherwise fail with ENOENT on
 * every batch.
 */
export class FileChannel implements Channel {
  private handle: FileHandle | null = null;
  private closed = false;

  constructor(private readonly path: string) {}

  get connected(): boolean {
    return this.handle !== null;
  }

  async send(chunks: readonly Chunk[]): Promise<void> {
    if (this.closed) throw new Error('sink closed');
    try {
      if (this.handle === null) {
        await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
        this.handle = await open(this.path, 'a', 0o600);
      }
      await this.handle.write(joinChunks(chunks));
    } catch (err) {
      const handle = this.handle;
      this.handle = null;
      await handle?.close().catch(() => undefined);
      throw err;
    }
  }

  close(): void {
    this.closed = true;
    const handle = this.handle;
    this.handle = null;
    void handle?.close().catch(() => undefined);
  }
}

/** One datagram per chunk (RFC 5426): fire and forget, as UDP syslog is. */
export class UdpChannel implements Channel {
  private socket: UdpSocket | null = null;
  private closed = false;

  constructor(private readonly host: string, private readonly port: number) {}

  get connected(): boolean {
    return this.socket !== null;
  }

  async send(chunks: readonly Chunk[]): Promise<void> {
    if (this.closed) throw new Error('sink closed');
    const socket = this.socket ?? this.open();
    for (const chunk of chunks) {
      await new Promise<void>((resolve, reject) => socket.send(chunk, this.port, this.host, (err) => (err ? reject(err) : resolve())));
    }
  }

  private open(): UdpSocket {
    const socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    socket.unref();
    socket.on('error', () => {
      if (this.socket === socket) this.socket = null;
      socket.close();
    });
    this.socket = socket;
    return socket;
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
    this.socket = null;
  }
}

/** A syslog stream over TCP, or over TLS with the SIEM's certificate checked (RFC 5425). */
export class StreamChannel implements Channel {
  private socket: Socket | null = null;
  private closed = false;

  constructor(
    private readonly target: StreamTarget,
    private readonly timers: Timers,
  ) {}

  get connected(): boolean {
    return this.socket !== null;
  }

  async send(chunks: readonly Chunk[]): Promise<void> {
    if (this.closed) throw new Error('sink closed');
    const socket = this.socket ?? (await this.connect());
    await new Promise<void>((resolve, reject) => {
      const deadline = this.timers.after(WRITE_TIMEOUT_MS, () => {
        socket.destroy(new Error(`the SIEM took no data for ${WRITE_TIMEOUT_MS} ms`));
        reject(new Error(`write timed out after ${WRITE_TIMEOUT_MS} ms`));
      });
      socket.write(joinChunks(chunks), (err) => {
        deadline.cancel();
        if (err) reject(err);
        else resolve();
      });
    });
  }

  private async connect(): Promise<Socket> {
    const socket = await connectStream(this.target, this.timers);
    if (this.closed) {
      socket.destroy();
      throw new Error('sink closed');
    }
    // A SIEM has nothing to say: read and discard, and treat its end as the end of the connection.
    socket.resume();
    socket.on('end', () => socket.destroy());
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
    });
    this.socket = socket;
    return socket;
  }


  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = null;
  }
}

/** Where a stream sink connects: TCP, or TLS with these options. */
export interface StreamTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: ConnectionOptions | null;
}

/**
 * Opens a TCP or TLS connection to a SIEM within CONNECT_TIMEOUT_MS (for
 * TLS, the handshake included), with Nagle off and keep-alive on. Once open,
 * errors are swallowed here and seen by the caller as 'close': a sink's
 * socket must never end the process with an unheard 'error'.
 */
export function connectStream(target: StreamTarget, timers: Timers): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { host, port, tls } = target;
    const socket = tls === null ? netConnect({ host, port }) : tlsConnect({ host, port, ...tls });
    const ready = tls === null ? 'connect' : 'secureConnect';
    const deadline = timers.after(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error(`no connection to ${host}:${port} within ${CONNECT_TIMEOUT_MS} ms`)));
    const onError = (err: Error): void => {
      deadline.cancel();
      reject(err);
    };
    socket.once('error', onError);
    socket.once(ready, () => {
      deadline.cancel();
      socket.off('error', onError);
      socket.on('error', () => undefined);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}
