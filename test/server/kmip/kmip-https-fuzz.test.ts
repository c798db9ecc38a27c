/**
 * A small fuzz of KMIP over HTTPS bodies against a real appliance: random
 * bytes, random JSON values, random text, and valid requests of each
 * encoding truncated or with a byte changed, POSTed in TTLV, JSON and XML
 * on one kept-alive connection. Each must be answered 200 with a response
 * that decodes in the request's encoding and whose items each carry a
 * precise outcome (never General Failure); the connection must serve on
 * (the same socket answers a valid Query after each burst); and the server
 * must log no internal error. Seeded, so a failure replays.
 */
import fc from 'fast-check';
import { Logger, silentLogger } from '../../../common/logger';
import { decodeKmipBody, encodeKmipBody, KmipHttpEncoding } from '../../../protocol/kmip/kmip-http';
import { decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { enumItem, structureItem } from '../../../protocol/kmip/operations/payload';
import { KmipHttpsClient } from '../../../scripts/kmip/kmip-https-client';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { requestOf, V14 } from './kmip-https-support';

jest.setTimeout(180_000);

const SEED = 20261207;
const RUNS = 120;
const ENCODINGS: readonly KmipHttpEncoding[] = ['ttlv', 'json', 'xml'];

function bodiesFor(encoding: KmipHttpEncoding): Buffer[] {
  const valid = encodeKmipBody(encoding, requestOf('Query', structureItem('RequestPayload', [enumItem('QueryFunction', 'QueryOperations')]), V14));
  const mutated = fc.sample(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.boolean()), { seed: SEED, numRuns: RUNS }).map(([at, byte, cut]) => {
    const copy = Buffer.from(valid);
    copy[at] = byte;
    return cut ? copy.subarray(0, at) : copy;
  });
  const random = fc.sample(fc.uint8Array({ maxLength: 300 }), { seed: SEED + 1, numRuns: RUNS / 4 }).map((bytes) => Buffer.from(bytes));
  const text = fc.sample(encoding === 'json' ? fc.json({ maxDepth: 6 }) : fc.string({ maxLength: 300 }), { seed: SEED + 2, numRuns: RUNS / 4 }).map((s) => Buffer.from(s, 'utf8'));
  return [...mutated, ...random, ...text];
}

describe('KMIP over HTTPS: body fuzz', () => {
  let t: TestAppliance;
  let client: KmipHttpsClient;
  const errors: string[] = [];

  beforeAll(async () => {
    const log: Logger = { ...silentLogger, error: ((message: string) => void errors.push(message)) as unknown as Logger['error'] };
    t = await startTestAppliance({}, { log });
    client = new KmipHttpsClient(t.server.kmipHttpsPort!, t.issue('https-fuzz', 'app'));
  });

  afterAll(async () => {
    client?.close();
    await t?.stop();
  });

  test.each(ENCODINGS)('every %s body gets a well-formed answer in its encoding, with a precise outcome; the connection serves on', async (encoding) => {
    const bodies = bodiesFor(encoding);
    const sockets = new Set<number | undefined>();
    const outcomes = new Map<string, number>();
    for (const body of bodies) {
      const answer = await client.post(body, encoding);
      sockets.add(answer.localPort);
      if (answer.status !== 200) throw new Error(`${encoding} body ${body.toString('hex')} answered ${answer.status}: ${answer.body.toString()}`);
      const response = decodeResponse(decodeKmipBody(encoding, answer.body));
      for (const item of response.batchItems) {
        const outcome = item.resultStatus === 'Success' ? 'Success' : `${item.resultStatus} ${item.resultReason}`;
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        expect(item.resultReason).not.toBe('GeneralFailure');
      }
    }
    const valid = await client.post(encodeKmipBody(encoding, requestOf('Query', structureItem('RequestPayload', []))), encoding);
    expect(valid.status).toBe(200);
    sockets.add(valid.localPort);
    expect(sockets.size).toBe(1);
    // The bodies reached the decoder (not refused before it by HTTP).
    expect(outcomes.get('OperationFailed InvalidMessage')).toBeGreaterThan(RUNS / 4);
    expect(errors).toEqual([]);
  });
});
