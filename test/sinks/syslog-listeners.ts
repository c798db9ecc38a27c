/**
 * Real syslog receivers on 127.0.0.1 for the sink tests: TCP and TLS with
 * octet-counted frames (RFC 6587 §3.4.1), UDP one message per datagram.
 * Each keeps the raw bytes it received (for the key-material scan) and the
 * messages; a TCP receiver can be stopped and started again on its port.
 * Every wait is bounded.
 */
import { createSocket } from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { withTimeout } from '../pki/tls-fixture';

export interface Receiver {
  readonly port: number;
  readonly messages: string[];
  readonly raw: Buffer[];
  stop(): Promise<void>;
}

export interface StreamReceiver extends Receiver {
  /** Listens again on the same port (after stop). */
  start(): Promise<void>;
  readonly listening: boolean;
}

/** Splits octet-counted frames; fails the test on a malformed one. */
class OctetFrames {
  private pending = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.pending = Buffer.concat([this.pending, chunk]);
    const out: string[] = [];
    for (;;) {
      const space = this.pending.indexOf(0x20);
      if (space < 0) break;
      const lengthText = this.pending.subarray(0, space).toString('ascii');
      if (!/^[1-9]\d{0,6}$/.test(lengthText)) throw new Error(`bad octet count ${JSON.stringify(lengthText)}`);
      const length = Number(lengthText);
      if (this.pending.length < space + 1 + length) break;
      out.push(this.pending.subarray(space + 1, space + 1 + length).toString('utf8'));
      this.pending = this.pending.subarray(space + 1 + length);
    }
    return out;
  }
}

export async function startStreamReceiver(options: { tls?: tls.TlsOptions } = {}): Promise<StreamReceiver> {
  const messages: string[] = [];
  const raw: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let port = 0;
  let server: net.Server | null = null;
  const onSocket = (socket: net.Socket): void => {
    const frames = new OctetFrames();
    socket.on('data', (chunk: Buffer) => {
      raw.push(Buffer.from(chunk));
      messages.push(...frames.push(chunk));
    });
    socket.on('error', () => undefined);
  };
  const start = async (): Promise<void> => {
    const created = options.tls ? tls.createServer(options.tls, onSocket) : net.createServer(onSocket);
    created.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    created.on('tlsClientError', () => undefined);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        created.once('error', reject);
        created.listen(port, '127.0.0.1', () => resolve());
      }),
      'syslog listen',
    );
    port = (created.address() as net.AddressInfo).port;
    server = created;
  };
  await start();
  return {
    get port() {
      return port;
    },
    get listening() {
      return server !== null;
    },
    messages,
    raw,
    start,
    async stop() {
      const current = server;
      server = null;
      if (!current) return;
      for (const socket of sockets) socket.destroy();
      await withTimeout(new Promise<void>((resolve) => current.close(() => resolve())), 'syslog close');
    },
  };
}

export async function startUdpReceiver(): Promise<Receiver> {
  const messages: string[] = [];
  const raw: Buffer[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message: Buffer) => {
    raw.push(Buffer.from(message));
    messages.push(message.toString('utf8'));
  });
  await withTimeout(new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve())), 'udp bind');
  return {
    port: socket.address().port,
    messages,
    raw,
    stop: () => withTimeout(new Promise<void>((resolve) => socket.close(() => resolve())), 'udp close'),
  };
}

export interface SyslogParts {
  readonly pri: number;
  readonly msgId: string;
  readonly seq: number;
  readonly hash: string;
  readonly prevHash: string;
  readonly body: string;
}

const SYSLOG = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) \[strongroom@32473 seq="(\d+)" hash="([0-9a-f]{64})" prevHash="([0-9a-f]{64})"\] \uFEFF([\s\S]*)$/;

/** The parts of one of our RFC 5424 messages; throws when it is not one. */
export function parseSyslog(message: string): SyslogParts {
  const match = SYSLOG.exec(message);
  if (!match) throw new Error(`not an RFC 5424 message of ours: ${JSON.stringify(message.slice(0, 200))}`);
  return { pri: Number(match[1]), msgId: match[6], seq: Number(match[7]), hash: match[8], prevHash: match[9], body: match[10] };
}

/** Polls `condition` every 20 ms until it holds; fails after `ms`. */
export async function waitFor(condition: () => boolean, label: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
