/**
 * The two servers the socket benchmark (scripts/bench-socket.ts) measures,
 * each run in a child process of its own so that neither shares an event
 * loop with the load generator:
 *
 *   node dist/scripts/bench-socket-servers.js appliance DATA_DIR
 *   node dist/scripts/bench-socket-servers.js echo
 *
 * `appliance` serves the real native protocol from an appliance the parent
 * has already set up in DATA_DIR (config flags arrive in the `config`
 * message). With `clockOffsetMs` in that message (the rollover benchmark,
 * scripts/bench-rollover.ts) the server's clock runs that far from the real
 * one, and a `{type:'clock', offsetMs}` message moves it (answered
 * `{type:'clock-set'}`): so keys can be made due while the server runs.
 * `{type:'cpu'}` is answered `{type:'cpu', user, system, audit}`: the
 * appliance process's CPU time so far (all its threads), in microseconds,
 * and its audit group commits so far (count, events, seconds).
 * `echo` is the ceiling: node:tls with the same certificates and the same
 * mTLS settings, the same framing (FrameDecoder), and for every
 * request frame one response frame of the size the real server answers that
 * operation with — no JSON parsing, no policy, no keychain. With
 * `kmipResponseBytes` it also listens for KMIP (the KMIP ceiling): TTLV
 * messages cut by ttlvMessageLength, each answered with one prebuilt
 * Response Message of the size the real KMIP listener answers with.
 *
 * Both speak to the parent over the fork IPC channel only: `{type:'waiting'}`
 * out, `{type:'config'}` in, `{type:'ready', port, kmipPort}` out, `{type:'stop'}` in. A child exits when its
 * parent goes away (IPC disconnect), so an aborted benchmark leaves no server
 * behind. Benchmark use only: the echo child receives the server's private
 * key over IPC.
 */
import { AddressInfo } from 'node:net';
import { createServer, Server, TLSSocket } from 'node:tls';
import { Clock, systemClock } from '../common/clock';
import { loadConfig } from '../common/config';
import { startApplianceServer } from '../server/compose/appliance-server';
import { openAppliance } from '../server/compose/open-appliance';
import { encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from '../protocol/frame-codec';
import { kmipEchoTemplate, TtlvStreamSplitter } from './bench-socket-kmip-bytes';

/** Whatever stop() awaits, the child is gone after this long. */
const STOP_TIMEOUT_MS = 10_000;
/**
 * Request payloads from the benchmark start `{"id":"NNNNNNNN","op":"`: the
 * id is 8 ASCII digits at this offset, the op name starts at OP_OFFSET.
 */
export const ID_OFFSET = 7;
export const ID_DIGITS = 8;
export const OP_OFFSET = 23;
/** Echo responses keep the real response's prefix `{"id":"NNNNNNNN","result":` so the client reads both alike. */
const ECHO_PREFIX = '{"id":"00000000","result":{"pad":"';
const ECHO_SUFFIX = '"}}';

export interface EchoConfig {
  readonly type: 'config';
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
  /** Payload bytes of the real server's response, by op name. */
  readonly responseBytes: Record<string, number>;
  /** Bytes of the real KMIP listener's reply: present, the echo child serves KMIP on a port of its own too. */
  readonly kmipResponseBytes?: number;
}

export interface ApplianceConfigMessage {
  readonly type: 'config';
  readonly flags: Record<string, string>;
  /** Absent: the system clock. Present: the server's clock is the real one plus this, movable by a `clock` message. */
  readonly clockOffsetMs?: number;
  /** Group commits on the server's own connection (the event loop waits for each fsync) instead of the audit worker. */
  readonly auditInProcess?: boolean;
}

export interface ClockMessage {
  readonly type: 'clock';
  readonly offsetMs: number;
}

/** The real clock shifted by an offset that `clock` messages change (benchmark use only). */
function shiftedClock(initialOffsetMs: number): Clock {
  let offsetMs = initialOffsetMs;
  process.on('message', (message: Partial<ClockMessage>) => {
    if (message?.type !== 'clock' || !Number.isSafeInteger(message.offsetMs)) return;
    offsetMs = message.offsetMs as number;
    send({ type: 'clock-set' });
  });
  return { nowMs: () => Date.now() + offsetMs };
}

function send(message: unknown): void {
  if (process.send) process.send(message);
}

/** Runs `stop` once, on a stop message or when the parent disappears; exits in any case. */
function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const run = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(2), STOP_TIMEOUT_MS).unref();
    stop().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') run();
  });
  process.on('disconnect', run);
}

/** Asks the parent for its config (only once listening: a message with no listener is lost). */
function receiveConfig<T>(): Promise<T> {
  const config = new Promise<T>((resolve) => process.once('message', (message) => resolve(message as T)));
  send({ type: 'waiting' });
  return config;
}

async function runAppliance(dataDir: string): Promise<void> {
  const { flags, clockOffsetMs, auditInProcess } = await receiveConfig<ApplianceConfigMessage>();
  const config = loadConfig({ dataDir, env: {}, flags });
  const clock = clockOffsetMs === undefined ? systemClock : shiftedClock(clockOffsetMs);
  const appliance = openAppliance(config, { clock });
  const server = await startApplianceServer(appliance, { port: 0, clock, auditInProcess });
  onStop(async () => {
    await server.close();
    await appliance.close();
  });
  // The parent asks before and after each cell: the server's CPU time per request does not depend on what else the machine runs.
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'cpu') send({ type: 'cpu', ...process.cpuUsage(), audit: server.metrics.auditCommitTotals() });
  });
  send({ type: 'ready', port: server.port, kmipPort: server.kmipPort });
}

/** One prebuilt response payload per op, exactly `bytes` long. */
function echoTemplate(bytes: number): Buffer {
  const pad = bytes - ECHO_PREFIX.length - ECHO_SUFFIX.length;
  if (pad < 0) throw new RangeError(`a response of ${bytes} bytes is shorter than the echo frame`);
  return encodeFrame(Buffer.from(ECHO_PREFIX + 'a'.repeat(pad) + ECHO_SUFFIX, 'ascii'));
}

function serveEcho(socket: TLSSocket, templates: Map<string, Buffer>): void {
  const decoder = new FrameDecoder();
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => socket.resume());
  socket.on('data', (chunk: Buffer) => {
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      const opEnd = frame.indexOf(0x22, OP_OFFSET); // the closing quote of the op name
      const template = opEnd > 0 ? templates.get(frame.toString('latin1', OP_OFFSET, opEnd)) : undefined;
      if (template === undefined) {
        socket.destroy();
        return;
      }
      // Like the real server: one fresh frame per response, written on its own.
      const response = Buffer.allocUnsafe(template.length);
      template.copy(response);
      frame.copy(response, FRAME_HEADER_BYTES + ID_OFFSET, ID_OFFSET, ID_OFFSET + ID_DIGITS);
      if (!socket.write(response)) socket.pause();
    }
  });
}

/** Like serveEcho, for KMIP: one copy of `template` per TTLV message. */
function serveKmipEcho(socket: TLSSocket, template: Buffer): void {
  const splitter = new TtlvStreamSplitter();
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => socket.resume());
  socket.on('data', (chunk: Buffer) => {
    let messages: Buffer[];
    try {
      messages = splitter.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (let i = 0; i < messages.length; i++) {
      const response = Buffer.allocUnsafe(template.length);
      template.copy(response);
      if (!socket.write(response)) socket.pause();
    }
  });
}

/** A node:tls server with the appliance's certificates and mTLS settings, listening on a free port of 127.0.0.1. */
async function listenEcho(config: EchoConfig, serve: (socket: TLSSocket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer({
    cert: config.certificatePem,
    key: config.privateKeyPem,
    ca: config.caPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return { port: (server.address() as AddressInfo).port, close };
}

async function runEcho(): Promise<void> {
  const config = await receiveConfig<EchoConfig>();
  const templates = new Map(Object.entries(config.responseBytes).map(([op, bytes]) => [op, echoTemplate(bytes)]));
  const native = await listenEcho(config, (socket) => serveEcho(socket, templates));
  const kmipTemplate = config.kmipResponseBytes === undefined ? null : kmipEchoTemplate(config.kmipResponseBytes);
  const kmip = kmipTemplate === null ? null : await listenEcho(config, (socket) => serveKmipEcho(socket, kmipTemplate));
  onStop(async () => {
    await Promise.all([native.close(), kmip?.close()]);
  });
  send({ type: 'ready', port: native.port, kmipPort: kmip?.port ?? null });
}

function main(): Promise<void> {
  const [role, dataDir] = process.argv.slice(2);
  if (!process.send) throw new Error('bench-socket-servers runs as a child of bench-socket (it needs the IPC channel)');
  if (role === 'appliance' && dataDir) return runAppliance(dataDir);
  if (role === 'echo') return runEcho();
  throw new Error('usage: bench-socket-servers.js appliance DATA_DIR | echo');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
