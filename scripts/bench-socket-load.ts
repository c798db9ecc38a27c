/**
 * The load generator of the socket benchmark (scripts/bench-socket.ts):
 * persistent mTLS connections that send prebuilt request frames, either one
 * at a time per connection (closed loop) or `depth` at a time (pipelined),
 * and time each request from its write to its response with a monotonic
 * clock. The client does as little as it can per request (copy a template,
 * write 8 id digits, read the id and one byte of the response) so that the
 * numbers measure the server, and it does the same work against the real
 * appliance and against the echo ceiling. What is wire-specific (how the
 * stream is cut into messages, where a request's number goes, how a success
 * is told) is a `LaneWire`: NATIVE_WIRE here, KMIP_WIRE in
 * scripts/bench-socket-kmip.ts.
 *
 * Every cell is bounded in requests and in time; a server that stops
 * answering fails the cell after DRAIN_TIMEOUT_MS instead of hanging.
 */
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { FrameDecoder, FRAME_HEADER_BYTES, HARD_MAX_FRAME_BYTES } from '../protocol/frame-codec';
import { decodeResponse } from '../protocol/response';
import { ID_DIGITS, ID_OFFSET } from './bench-socket-servers';

/** A TLS handshake that takes longer than this fails the run. */
const CONNECT_TIMEOUT_MS = 10_000;
/** After a cell stops sending, its in-flight requests must be answered within this. */
const DRAIN_TIMEOUT_MS = 10_000;
/** Ids are per connection, modulo 10^8 (8 digits); the send-time ring must exceed any pipeline depth. */
export const ID_MODULUS = 100_000_000;
const RING_SIZE = 4096;
/** Payload offset of the first letter after `{"id":"NNNNNNNN","`: `r` for result, `e` for error. */
const KIND_OFFSET = ID_OFFSET + ID_DIGITS + 3;
const RESULT_LETTER = 0x72;

export interface Credentials {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
}

/** What the load generator needs to know of a wire. */
export interface LaneWire {
  /** Cuts the byte stream from the server into whole response messages. */
  readonly decoder: () => { push(chunk: Buffer): Buffer[] };
  /** Writes request number `id` into the request copied at `out[at]` (a wire that answers in order has nowhere to put it). */
  readonly stamp: (out: Buffer, at: number, id: number) => void;
  /** The number of the request `response` answers. */
  readonly answers: (lane: Lane, response: Buffer) => number;
  /** Null when `response` is a success; otherwise what the server said instead. */
  readonly failure: (response: Buffer) => string | null;
}

/** The native protocol: length-prefixed JSON, responses matched to requests by the 8 id digits. */
export const NATIVE_WIRE: LaneWire = {
  decoder: () => new FrameDecoder(HARD_MAX_FRAME_BYTES),
  stamp: (out, at, id) => {
    let digits = id;
    for (let d = ID_DIGITS - 1; d >= 0; d--) {
      out[at + FRAME_HEADER_BYTES + ID_OFFSET + d] = 0x30 + (digits % 10);
      digits = Math.floor(digits / 10);
    }
  },
  answers: (_lane, frame) => readId(frame),
  failure: (frame) => {
    if (frame[KIND_OFFSET] === RESULT_LETTER) return null;
    const response = decodeResponse(frame);
    return `${response.error?.code ?? 'something unexpected'}: ${response.error?.message ?? frame.toString('utf8', 0, 200)}`;
  },
};

export interface CellSpec {
  /** Prebuilt requests of the lanes' wire (native: payloads start `{"id":"00000000",`); one is picked at random per request. */
  readonly requests: readonly Buffer[];
  /** Instead of `requests`: a fresh request each time (one that must never repeat, such as a Create of a new name). */
  readonly pick?: () => Buffer;
  readonly connections: number;
  /** Requests in flight per connection: 1 is the closed loop. */
  readonly depth: number;
  readonly warmupMs: number;
  readonly maxRequests: number;
  readonly maxMs: number;
}

export interface CellResult {
  /** Requests measured (after the warm-up). */
  readonly requests: number;
  /** Every response of the cell, warm-up and drain included: what the server did for the cell's CPU time. */
  readonly responses: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

export interface Lane {
  readonly socket: TLSSocket;
  readonly wire: LaneWire;
  readonly sentAt: Float64Array;
  nextId: number;
  /** Responses read so far, modulo ID_MODULUS: the number of the next one, on a wire that answers in order. */
  answered: number;
  inFlight: number;
  onFrames: ((lane: Lane, frames: Buffer[]) => void) | null;
  onClose: ((err: Error) => void) | null;
}

export function openLanes(port: number, count: number, credentials: Credentials, wire: LaneWire = NATIVE_WIRE): Promise<Lane[]> {
  const one = (): Promise<Lane> =>
    new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: credentials.caPem,
        cert: credentials.certificatePem,
        key: credentials.privateKeyPem,
        servername: 'localhost',
      });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error('TLS connect timed out')), CONNECT_TIMEOUT_MS);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const lane: Lane = { socket, wire, sentAt: new Float64Array(RING_SIZE), nextId: 0, answered: 0, inFlight: 0, onFrames: null, onClose: null };
        const decoder = wire.decoder();
        socket.on('data', (chunk: Buffer) => lane.onFrames?.(lane, decoder.push(chunk)));
        socket.on('error', () => undefined);
        socket.on('close', () => lane.onClose?.(new Error('the server closed a connection during the cell')));
        resolve(lane);
      });
    });
  return Promise.all(Array.from({ length: count }, one));
}

export function closeLanes(lanes: readonly Lane[]): void {
  for (const lane of lanes) {
    lane.onClose = null;
    lane.socket.destroy();
  }
}

/** Writes `count` requests on `lane` in one buffer, stamping ids and send times. */
function sendRequests(lane: Lane, requests: readonly Buffer[], count: number, pick?: () => Buffer): void {
  if (count <= 0) return;
  let total = 0;
  const picked: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const template = pick ? pick() : requests[(Math.random() * requests.length) | 0];
    picked.push(template);
    total += template.length;
  }
  const out = Buffer.allocUnsafe(total);
  const now = performance.now();
  let at = 0;
  for (const template of picked) {
    template.copy(out, at);
    const id = lane.nextId;
    lane.nextId = (id + 1) % ID_MODULUS;
    lane.wire.stamp(out, at, id);
    lane.sentAt[id % RING_SIZE] = now;
    at += template.length;
  }
  lane.inFlight += count;
  lane.socket.write(out);
}

function readId(frame: Buffer): number {
  let id = 0;
  for (let d = 0; d < ID_DIGITS; d++) id = id * 10 + (frame[ID_OFFSET + d] - 0x30);
  return id;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

/** Runs one cell on the first `spec.connections` lanes: warm-up, then the measured window. */
export function runCell(lanes: readonly Lane[], spec: CellSpec): Promise<CellResult> {
  const used = lanes.slice(0, spec.connections);
  if (used.length < spec.connections) throw new RangeError(`the cell needs ${spec.connections} connections, ${lanes.length} are open`);
  const latencies = new Float64Array(spec.maxRequests);
  const start = performance.now();
  const warmupEnd = start + spec.warmupMs;
  let measureStart = 0;
  let lastDone = 0;
  let recorded = 0;
  let responses = 0;
  let stopping = false;

  return new Promise<CellResult>((resolve, reject) => {
    let drainTimer: NodeJS.Timeout | null = null;
    const settle = (err: Error | null): void => {
      clearTimeout(stopTimer);
      if (drainTimer) clearTimeout(drainTimer);
      for (const lane of used) {
        lane.onFrames = null;
        lane.onClose = null;
      }
      if (err) return reject(err);
      const sorted = latencies.slice(0, recorded).sort();
      const seconds = (lastDone - measureStart) / 1000;
      resolve({ requests: recorded, responses, seconds, opsPerSecond: recorded / seconds, p50ms: percentile(sorted, 0.5), p99ms: percentile(sorted, 0.99) });
    };
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      drainTimer = setTimeout(() => settle(new Error(`requests still unanswered ${DRAIN_TIMEOUT_MS} ms after the cell stopped`)), DRAIN_TIMEOUT_MS);
      if (used.every((lane) => lane.inFlight === 0)) settle(null);
    };
    // The time bound holds even if no response ever arrives.
    const stopTimer = setTimeout(stop, spec.warmupMs + spec.maxMs);

    const onFrames = (lane: Lane, frames: Buffer[]): void => {
      const now = performance.now();
      for (const frame of frames) {
        const failure = lane.wire.failure(frame);
        if (failure !== null) return settle(new Error(`the server answered ${failure}`));
        const id = lane.wire.answers(lane, frame);
        lane.inFlight--;
        responses++;
        if (now < warmupEnd || stopping) continue;
        if (measureStart === 0) measureStart = now;
        latencies[recorded++] = now - lane.sentAt[id % RING_SIZE];
        lastDone = now;
        if (recorded >= spec.maxRequests || now - measureStart >= spec.maxMs) stop();
      }
      if (!stopping) sendRequests(lane, spec.requests, spec.depth - lane.inFlight, spec.pick);
      else if (used.every((l) => l.inFlight === 0)) settle(null);
    };
    for (const lane of used) {
      lane.onFrames = onFrames;
      lane.onClose = settle;
      sendRequests(lane, spec.requests, spec.depth, spec.pick);
    }
  });
}

/** Sends one request on an idle lane and resolves with its response payload (set-up probes). */
export function roundTrip(lane: Lane, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      lane.onFrames = null;
      reject(new Error(`no response within ${DRAIN_TIMEOUT_MS} ms`));
    }, DRAIN_TIMEOUT_MS);
    lane.onFrames = (_lane, frames) => {
      if (frames.length === 0) return;
      clearTimeout(timer);
      lane.onFrames = null;
      lane.inFlight = 0;
      lane.wire.answers(lane, frames[0]);
      resolve(frames[0]);
    };
    sendRequests(lane, [request], 1);
  });
}

/**
 * Sends every request once, spread over the lanes, one at a time per lane,
 * before the cells: the server's caches (the resolved key and instance
 * rows) then hold every key whichever wire asks, so the first cell of a wire
 * is not the one that pays for filling them. Rejects on any failure.
 */
export async function prime(lanes: readonly Lane[], requests: readonly Buffer[]): Promise<void> {
  await Promise.all(
    lanes.map(async (lane, i) => {
      for (let at = i; at < requests.length; at += lanes.length) {
        const response = await roundTrip(lane, requests[at]);
        const failure = lane.wire.failure(response);
        if (failure !== null) throw new Error(`the server answered ${failure} while priming`);
      }
    }),
  );
}

/** "TLSv1.3 TLS_AES_256_GCM_SHA384", for the header line. */
export function tlsDescription(lane: Lane): string {
  return `${lane.socket.getProtocol() ?? '?'} ${lane.socket.getCipher()?.name ?? '?'}`;
}
