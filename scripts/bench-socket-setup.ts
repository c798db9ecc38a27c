/**
 * Set-up of the socket benchmark (scripts/bench-socket.ts): the appliance it
 * measures (made in the parent process, then closed: the child serves it),
 * the request frames of each workload, and the real server's response sizes
 * that the echo ceiling imitates. The same for the single node (SQLite) and
 * the clustered one (scripts/bench-socket-cluster.ts: storage = postgres).
 */
import { randomBytes } from 'node:crypto';
import { encodeFrame } from '../protocol/frame-codec';
import { decodeResponse } from '../protocol/response';
import { createBenchAppliance } from './bench-appliance';
import { closeLanes, Credentials, openLanes, roundTrip } from './bench-socket-load';
import { RequestSource } from './bench-socket-cells';

/** Round trips per op to learn the real response size the echo server must imitate. */
const SIZE_PROBES = 50;
export const ENCRYPT_PLAINTEXT_BYTES = 256;
const BENCH_CLIENT = 'bench-app';
const BENCH_KEY = 'bench/aes';
/** The workloads of the native wire; Create makes a key of a new name per request. */
export type NativeWorkload = 'Get' | 'Encrypt' | 'GenerateDataKey' | 'Create';

export interface Prepared {
  readonly flags: Record<string, string>;
  readonly client: Credentials;
  readonly server: Credentials;
  readonly keyNames: string[];
  /** The first instance of each key, in keyNames' order: KMIP's Unique Identifiers. */
  readonly instances: string[];
}

/** Makes the appliance in `dir` in this process (then closes it): token, keychain, PKI, the app client, its grant, the keys. */
export async function prepareAppliance(dir: string, keys: number, extraFlags: Record<string, string> = {}): Promise<Prepared> {
  const { appliance, flags, pki, issue, grantBench } = await createBenchAppliance(dir, extraFlags);
  try {
    const client = issue(BENCH_CLIENT, 'app');
    grantBench(BENCH_CLIENT, ['get', 'encrypt', 'generate-data-key', 'create'], 'bench-socket');
    appliance.keychain.createKey({ fullName: BENCH_KEY, algorithm: 'AES-256' });
    const keyNames: string[] = [];
    const instances: string[] = [];
    for (let i = 0; i < keys; i++) {
      keyNames.push(`bench/k-${i}`);
      instances.push(appliance.keychain.createKey({ fullName: keyNames[i], algorithm: 'AES-256' }).instances[0].name);
    }
    const server = pki.serverCredentials();
    return { flags, keyNames, instances, client, server };
  } finally {
    await appliance.close();
  }
}

function requestFrame(op: string, args: Record<string, unknown>): Buffer {
  // The id's 8 digits are overwritten per request (bench-socket-load.ts).
  return encodeFrame(Buffer.from(JSON.stringify({ id: '00000000', op, args }), 'utf8'));
}

/**
 * Create requests, each naming a key no other request of the run names
 * (bench/c-RUN-N): a repeated name would be refused KEY_EXISTS and end the
 * cell. A frame is built per request, on the appliance's lanes and on the
 * echo's alike, so the client does the same work for both.
 */
export function createSource(tag: string): RequestSource {
  let next = 0;
  const pick = (): Buffer => requestFrame('Create', { name: `bench/c-${tag}-${next++}` });
  return { requests: [pick()], pick };
}

export function requestSets(keyNames: readonly string[], only: ReadonlySet<string>): Array<[NativeWorkload, RequestSource]> {
  const plaintext = randomBytes(ENCRYPT_PLAINTEXT_BYTES).toString('base64');
  const sets: Array<[NativeWorkload, RequestSource]> = [
    ['Get', { requests: keyNames.map((name) => requestFrame('Get', { name })) }],
    ['Encrypt', { requests: [requestFrame('Encrypt', { name: BENCH_KEY, plaintext })] }],
    ['GenerateDataKey', { requests: [requestFrame('GenerateDataKey', { name: BENCH_KEY })] }],
    ['Create', createSource(randomBytes(4).toString('hex'))],
  ];
  return sets.filter(([op]) => only.has(op));
}

/** Mean payload size of the real server's successful answers, per op (and proof that the grants work). */
export async function responseSizes(port: number, client: Credentials, sets: ReadonlyArray<[string, RequestSource]>): Promise<Record<string, number>> {
  const [lane] = await openLanes(port, 1, client);
  try {
    const sizes: Record<string, number> = {};
    for (const [op, source] of sets) {
      let total = 0;
      for (let i = 0; i < SIZE_PROBES; i++) {
        const payload = await roundTrip(lane, source.pick ? source.pick() : source.requests[i % source.requests.length]);
        const response = decodeResponse(payload);
        if (response.error) throw new Error(`${op} failed during set-up: ${response.error.code} ${response.error.message}`);
        total += payload.length;
      }
      sizes[op] = Math.round(total / SIZE_PROBES);
    }
    return sizes;
  } finally {
    closeLanes([lane]);
  }
}
