/**
 * What KMIP costs above the native wire for one Get, without TLS, sockets,
 * storage or audit: the CPU time of one KMIP Get message through the
 * server's own code (decodeTtlv, decodeRequest, the batch executor, the
 * item runner, the Get mapping, encodeResponse, encodeTtlv and the wipes)
 * beside one native JSON Get frame (decodeRequest, encodeResult, wipe), the
 * dispatcher stubbed in both with the same RetrievedKey. The socket
 * benchmark (bench-socket.ts) measures the whole path; this isolates the
 * codec, where KMIP and native differ, and is steady enough on a busy
 * machine to compare one change (CPU time, not wall time; blocks of KMIP
 * and native alternate, and the medians are printed):
 *
 *   node dist/scripts/bench-kmip-codec.js [--rounds 15] [--block 5000]
 */
import { ClientIdentity } from '../domain/policy/identity';
import { RetrievedKey } from '../domain/views';
import { Dispatcher } from '../operations/dispatcher';
import { encodeResponse } from '../protocol/kmip/kmip-message-encoder';
import { get } from '../protocol/kmip/operations/get';
import { decodeTtlv } from '../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../protocol/kmip/ttlv-encoder';
import { wipeByteStrings } from '../protocol/kmip/ttlv';
import { decodeRequest } from '../protocol/request';
import { encodeResult } from '../protocol/response';
import { RateLimiter } from '../common/rate-limiter';
import { answerMessage } from '../server/kmip/kmip-message-answer';
import { kmipItemRunner } from '../server/kmip/kmip-item-runner';
import { wipeBuffers } from '../server/tls/connection';
import { kmipGetRequests } from './bench-socket-kmip-bytes';

const INSTANCE = 'bench/aes-0001@1';
const WARMUP_MESSAGES = 20_000;

/** What a native Get of an AES-256 instance returns (the views as the dispatcher gives them; the material fresh each time, as it is zeroed). */
function retrieved(): RetrievedKey {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    key: { id: 'k1', fullName: 'bench/aes-0001', namespace: 'bench', name: 'aes-0001', algorithm: 'AES-256', state: 'Active', currentVersion: 1, createdAt: at },
    instance: { name: INSTANCE, version: 1, state: 'Active', createdAt: at },
    material: Buffer.alloc(32, 7),
  } as unknown as RetrievedKey;
}

/** The dispatcher, stubbed: a Get's result, one audit already durable. */
const dispatcher = {
  dispatch: async (_request: unknown, audits: Array<Promise<void>>) => {
    audits.push(Promise.resolve());
    return retrieved();
  },
} as unknown as Dispatcher;

const identity = { name: 'bench-app', role: 'app' } as unknown as ClientIdentity;
const rateLimiter = { take: () => 0 } as unknown as RateLimiter;
const runItem = kmipItemRunner({
  dispatcher,
  operations: new Map([['Get', get]]),
  identity,
  source: { transport: 'kmip', address: null },
  newRequestId: () => 'kmip-bench',
  onInternalError: (err) => {
    throw err;
  },
  nowMs: () => Date.now(),
  newId: () => 'bench',
});
const kmipRequest = kmipGetRequests([INSTANCE])[0];
const nativeRequest = Buffer.from(JSON.stringify({ id: 1, op: 'Get', args: { instance: INSTANCE } }));

/** One KMIP Get message as KmipConnection answers it (a copy of the request bytes: the connection zeroes them). */
async function kmipGet(): Promise<number> {
  const message = Buffer.from(kmipRequest);
  const response = await answerMessage(() => decodeTtlv(message), { identity, rateLimiter, runItem, now: () => 1n });
  const bytes = encodeTtlv(encodeResponse(response));
  for (const item of response.batchItems) wipeByteStrings(item.responsePayload);
  message.fill(0);
  bytes.fill(0);
  return bytes.length;
}

/** One native Get frame as Connection answers it. */
async function nativeGet(): Promise<number> {
  const frame = Buffer.from(nativeRequest);
  const decoded = decodeRequest(frame, { maxDepth: 32, maxElements: 10_000 });
  frame.fill(0);
  const audits: Array<Promise<void>> = [];
  const value = await dispatcher.dispatch({ ...decoded, identity, source: { transport: 'tls', address: null } }, audits);
  await Promise.all(audits);
  const bytes = encodeResult(decoded.id, value);
  wipeBuffers(value);
  bytes.fill(0);
  return bytes.length;
}

/** CPU µs (user + system) per call over `count` calls. */
async function cpuPerCall(run: () => Promise<number>, count: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? fallback : Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const rounds = option('--rounds', 15);
  const block = option('--block', 5000);
  for (let i = 0; i < WARMUP_MESSAGES; i++) {
    await kmipGet();
    await nativeGet();
  }
  const kmip: number[] = [];
  const native: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const k = await cpuPerCall(kmipGet, block);
    const n = await cpuPerCall(nativeGet, block);
    kmip.push(k);
    native.push(n);
    ratios.push(k / n);
  }
  console.log(`KMIP Get ${median(kmip).toFixed(2)} µs/msg, native Get ${median(native).toFixed(2)} µs/msg, KMIP/native ${median(ratios).toFixed(2)} (CPU; medians of ${rounds} rounds of ${block})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
