/**
 * Fuzzing the KMIP transport over TLS against a real appliance: mutations of
 * valid requests (truncation, each item's length ±1, ±8, 0 and 0xFFFFFFFF,
 * type bytes swapped, padding 0xFF, tags made invalid, a payload one
 * structure deeper than the codec's limit, random bytes) sent on a few
 * persistent connections. The codec's own 100,000-case runs are in process
 * (test/protocol/kmip/ttlv-fuzz.test.ts); this proves the listener around
 * it: every message the server cuts from the stream gets one answer, in
 * order, that is a well-formed Response Message whose items carry a precise
 * Result Reason (never General Failure, which would be a fault of ours), and
 * a header that cannot be trusted is answered Invalid Message after the
 * messages before it, then the connection is closed. After each burst a
 * second client's Discover Versions is answered, and the server logs no
 * internal error.
 */
import fc from 'fast-check';
import { Logger, silentLogger } from '../../../common/logger';
import { decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { ResponseMessage } from '../../../protocol/kmip/kmip-message';
import { decodeTtlv } from '../../../protocol/kmip/ttlv-decoder';
import { structureItem } from '../../../protocol/kmip/operations/payload';
import { KmipCredentials, KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { baseRequests, depthLimitCases, FuzzCase, itemMutations, serverStream, truncations } from './kmip-fuzz-cases';

jest.setTimeout(240_000);

/** Persistent fuzzing connections, run side by side. */
const LANES = 4;
/** Cases sent back to back before their answers are read (below the server's queue of 16 messages). */
const BURST = 8;
/** An unfinished message is completed with zeros up to this; beyond, the case is sent and the connection closed. */
const MAX_COMPLETION_BYTES = 64 * 1024;
const SEED = 20261207;

interface Tally {
  cases: number;
  answers: number;
  closedByServer: number;
  readonly reasons: Map<string, number>;
  readonly failures: string[];
}

/** Checks one answer: a Response Message, Batch Count right, each item a success or a precise refusal. */
function checkAnswer(tally: Tally, bytes: Buffer, label: string): ResponseMessage | null {
  tally.answers++;
  let response: ResponseMessage;
  try {
    response = decodeResponse(decodeTtlv(bytes));
  } catch (err) {
    tally.failures.push(`${label}: the answer is not a Response Message (${(err as Error).message})`);
    return null;
  }
  if (response.header.batchCount !== response.batchItems.length || response.batchItems.length === 0) tally.failures.push(`${label}: Batch Count ${response.header.batchCount} for ${response.batchItems.length} items`);
  for (const item of response.batchItems) {
    const key = item.resultStatus === 'OperationFailed' ? (item.resultReason ?? 'no reason') : item.resultStatus;
    tally.reasons.set(key, (tally.reasons.get(key) ?? 0) + 1);
    if (item.resultStatus === 'OperationFailed' && (item.resultReason === undefined || item.resultReason === 'GeneralFailure' || !item.resultMessage)) {
      tally.failures.push(`${label}: ${item.resultReason ?? 'no reason'} "${item.resultMessage ?? ''}"`);
    }
  }
  return response;
}

/** A case as the connection will carry it: completed with zeros when it leaves a message unfinished, or marked to be cut off. */
function prepare(fuzzCase: FuzzCase): FuzzCase & { readonly messages: number; readonly broken: boolean; readonly cutOff: boolean } {
  let bytes = fuzzCase.bytes;
  for (;;) {
    const model = serverStream(bytes);
    if (model.pending === 0) return { ...fuzzCase, bytes, messages: model.messages, broken: model.broken, cutOff: false };
    if (bytes.length + model.pending - fuzzCase.bytes.length > MAX_COMPLETION_BYTES) return { ...fuzzCase, bytes, messages: model.messages, broken: false, cutOff: true };
    bytes = Buffer.concat([bytes, Buffer.alloc(model.pending)]);
  }
}

type Prepared = ReturnType<typeof prepare>;

describe('KMIP transport fuzz', () => {
  let t: TestAppliance;
  let fuzzer: KmipCredentials;
  let witness: KmipTlsClient;
  let witnessChain: Promise<unknown> = Promise.resolve();
  const grand = { cases: 0, answers: 0, closedByServer: 0 };
  const errors: string[] = [];
  const log: Logger = { ...silentLogger, error: ((message: string) => void errors.push(message)) as unknown as Logger['error'] };

  beforeAll(async () => {
    t = await startTestAppliance({}, { log });
    fuzzer = t.issue('kmip-fuzzer', 'app');
    witness = await KmipTlsClient.open(t.server.kmipPort!, t.issue('kmip-witness', 'app'));
  });

  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`KMIP transport fuzz: ${grand.cases} cases, ${grand.answers} answers checked, ${grand.closedByServer} connections closed by the server`);
    witness?.destroy();
    await t?.stop();
  });

  /** The second client's Discover Versions, one at a time (its answers come in order). */
  function witnessAnswers(tally: Tally, after: string): Promise<unknown> {
    witnessChain = witnessChain.then(async () => {
      const answer = await witness.call('DiscoverVersions', structureItem('RequestPayload', []));
      if (answer.batchItems[0]?.resultStatus !== 'Success') tally.failures.push(`the witness's Discover Versions after ${after}: ${JSON.stringify(answer.batchItems[0])}`);
    });
    return witnessChain;
  }

  /** Sends cases that keep the stream in step, BURST at a time, and reads one answer per message they hold. */
  async function inStep(client: KmipTlsClient, cases: readonly Prepared[], tally: Tally): Promise<void> {
    for (let i = 0; i < cases.length; i += BURST) {
      const burst = cases.slice(i, i + BURST);
      client.sendBytes(Buffer.concat(burst.map((c) => c.bytes)));
      for (const fuzzCase of burst) {
        tally.cases++;
        for (let m = 0; m < fuzzCase.messages; m++) checkAnswer(tally, await client.nextBytes(), `${fuzzCase.label} (answer ${m + 1})`);
      }
      await witnessAnswers(tally, burst[burst.length - 1].label);
    }
  }

  /** A case that breaks the stream or is cut off, on a connection of its own: its answers, then the server's close. */
  async function alone(fuzzCase: Prepared, tally: Tally): Promise<void> {
    tally.cases++;
    const client = await KmipTlsClient.open(t.server.kmipPort!, fuzzer);
    try {
      client.sendBytes(fuzzCase.bytes);
      if (fuzzCase.cutOff) client.socket.end();
      const answers: Buffer[] = [];
      for (;;) {
        try {
          answers.push(await client.nextBytes());
        } catch (err) {
          if (!client.closed) throw err;
          break;
        }
      }
      tally.closedByServer++;
      const expected = fuzzCase.messages + (fuzzCase.broken ? 1 : 0);
      if (answers.length !== expected) tally.failures.push(`${fuzzCase.label}: ${answers.length} answers before the close, expected ${expected}`);
      const responses = answers.map((bytes, m) => checkAnswer(tally, bytes, `${fuzzCase.label} (answer ${m + 1})`));
      const last = responses[responses.length - 1];
      if (fuzzCase.broken && last?.batchItems[0]?.resultReason !== 'InvalidMessage') tally.failures.push(`${fuzzCase.label}: the last answer before the close is not Invalid Message`);
    } finally {
      client.destroy();
    }
    await witnessAnswers(tally, fuzzCase.label);
  }

  /** Runs the cases: those that keep the stream in step on LANES persistent connections, the others each alone. */
  async function run(cases: readonly FuzzCase[]): Promise<Tally> {
    const tally: Tally = { cases: 0, answers: 0, closedByServer: 0, reasons: new Map(), failures: [] };
    const prepared = cases.map(prepare);
    const steady = prepared.filter((c) => !c.broken && !c.cutOff);
    const breaking = prepared.filter((c) => c.broken || c.cutOff);
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        const client = await KmipTlsClient.open(t.server.kmipPort!, fuzzer);
        try {
          await inStep(client, steady.filter((_c, i) => i % LANES === lane), tally);
          const after = await client.call('DiscoverVersions', structureItem('RequestPayload', []));
          if (after.batchItems[0].resultStatus !== 'Success') tally.failures.push(`lane ${lane}: Discover Versions after its cases failed`);
        } finally {
          client.destroy();
        }
      }),
    );
    for (const fuzzCase of breaking) await alone(fuzzCase, tally);
    grand.cases += tally.cases;
    grand.answers += tally.answers;
    grand.closedByServer += tally.closedByServer;
    return tally;
  }

  function expectClean(tally: Tally): void {
    expect(tally.failures.slice(0, 20)).toEqual([]);
    expect(errors).toEqual([]);
  }

  it('answers every mutation of each item of valid requests precisely, in order, and keeps serving', async () => {
    const cases = baseRequests().flatMap((base) => [...itemMutations(base)]);
    const tally = await run(cases);
    expectClean(tally);
    expect(tally.cases).toBe(cases.length);
    expect(tally.cases).toBeGreaterThan(1000);
    // The mutations reach the decoder: most answers are Invalid Message; some that cut the stream closed it.
    expect(tally.reasons.get('InvalidMessage') ?? 0).toBeGreaterThan(tally.answers / 2);
    expect(tally.closedByServer).toBeGreaterThan(10);
  });

  it('answers truncated requests, in step when the declared length matches, and survives a peer that stops mid-message', async () => {
    const cases = baseRequests().flatMap((base) => [...truncations(base)]);
    const tally = await run(cases);
    expectClean(tally);
    expect(tally.cases).toBe(cases.length);
    expect(tally.reasons.get('InvalidMessage') ?? 0).toBeGreaterThan(30);
  });

  it('decodes a payload at the depth limit and refuses one level deeper as Invalid Message, on the same connection', async () => {
    const { atLimit, overLimit } = depthLimitCases();
    const client = await KmipTlsClient.open(t.server.kmipPort!, fuzzer);
    try {
      client.sendBytes(atLimit.bytes);
      const decoded = (await client.next()).batchItems[0];
      // The message decoded; Discover Versions refuses the unknown field in its payload.
      expect(decoded).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
      client.sendBytes(overLimit.bytes);
      const refused = (await client.next()).batchItems[0];
      expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
      expect(refused.resultMessage).toMatch(/deep/i);
      expect((await client.call('DiscoverVersions', structureItem('RequestPayload', []))).batchItems[0].resultStatus).toBe('Success');
    } finally {
      client.destroy();
    }
    expect(errors).toEqual([]);
  });

  it('answers random bodies behind a valid header and random bytes', async () => {
    const bodies = fc.sample(fc.uint8Array({ minLength: 8, maxLength: 400 }), { seed: SEED, numRuns: 400 }).map((random, i) => {
      const body = Buffer.from(random.subarray(0, random.length - (random.length % 8)));
      const header = Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]);
      header.writeUInt32BE(body.length, 4);
      return { label: `random body ${i}: ${body.toString('hex')}`, bytes: Buffer.concat([header, body]) };
    });
    const raw = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 64 }), { seed: SEED + 1, numRuns: 40 }).map((random, i) => ({ label: `random bytes ${i}: ${Buffer.from(random).toString('hex')}`, bytes: Buffer.from(random) }));
    const tally = await run([...bodies, ...raw]);
    expectClean(tally);
    expect(tally.cases).toBe(bodies.length + raw.length);
    expect(tally.reasons.get('InvalidMessage') ?? 0).toBeGreaterThan(bodies.length / 2);
  });
});
