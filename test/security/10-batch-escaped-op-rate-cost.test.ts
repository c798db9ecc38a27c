/**
 * Attack (Trust issue, lesser findings): a Batch whose items spell "op" with
 * a JSON escape ("o\u0070") was charged one rate token instead of one per
 * item, because the server counted `"op":` in the raw frame before decoding
 * it. A client could so run up to 64 operations for the price of one and
 * outrun its rate limit 64-fold.
 *
 * The rule (server/tls/connection.ts): a frame costs one token before it is
 * decoded (so parsing is rate limited too), and a Batch pays for the rest of
 * its parsed items once decoded: however its JSON is spelled, N items cost N
 * tokens. Real server on a SoftHSM2 token and a SQLite keychain, on manual
 * time, so that the bucket does not refill while the test runs.
 */
import { ManualClock } from '../../common/clock';
import { encodeFrame } from '../../protocol/frame-codec';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { ManualTimers } from '../support/manual-timers';

const RATE_PER_SECOND = 4;
/** The server's bucket holds twice the per-second rate (server/compose/listeners.ts). */
const BURST = 2 * RATE_PER_SECOND;

/** A Batch of `n` Query items, each item's "op" (and, if asked, the envelope's too) spelled with a JSON escape. */
function escapedBatch(id: number, n: number, escapeEnvelope = false): Buffer {
  const items = Array.from({ length: n }, () => '{"o\\u0070":"Query"}').join(',');
  const op = escapeEnvelope ? '"o\\u0070":"B\\u0061tch"' : '"op":"Batch"';
  return encodeFrame(Buffer.from(`{"id":${id},${op},"args":{"items":[${items}]}}`));
}

describe('attack 10: a Batch spelling "op" with a JSON escape pays one rate token', () => {
  let app: TestAppliance;
  let timers: ManualTimers;

  beforeAll(async () => {
    timers = new ManualTimers(new ManualClock(Date.now()));
    app = await startTestAppliance({ rate_limit_per_second: String(RATE_PER_SECOND), idle_timeout_ms: '3600000' }, { clock: timers.clock, timers });
  });

  afterAll(async () => app.stop());

  it.each([
    ['items spelled "o\\u0070"', false, 'escaped-items'],
    ['envelope and items escaped', true, 'escaped-envelope'],
  ])('charges one token per parsed item (%s): the next request is RATE_LIMITED', async (_label, escapeEnvelope, clientName) => {
    const client = app.issue(clientName, 'app');
    const conn = await app.connect(client);
    conn.sendBytes(escapedBatch(1, BURST, escapeEnvelope));
    const batch = await conn.next();
    expect(batch.error).toBeUndefined();
    const results = (batch.result as { items: Array<{ result?: unknown; error?: unknown }> }).items;
    expect(results).toHaveLength(BURST);
    expect(results.every((item) => item.result !== undefined)).toBe(true);
    // The whole burst is spent: one more request must wait, as after BURST plain items.
    const next = await conn.request('Query');
    expect(next.error?.code).toBe('RATE_LIMITED');
    expect((next.error?.details as { retryAfterMs?: unknown }).retryAfterMs).toEqual(expect.any(Number));
    conn.destroy();
  });

  it('refuses a Batch whose parsed items exceed what is left, echoing its id, and serves it once the bucket refills', async () => {
    const conn = await app.connect(app.issue('half-spent', 'app'));
    expect((await conn.request('Query')).error).toBeUndefined();
    conn.sendBytes(escapedBatch(7, BURST));
    const refused = await conn.next();
    expect(refused.error?.code).toBe('RATE_LIMITED');
    expect(refused.id).toBe(7);
    await timers.advance(1000 * (BURST / RATE_PER_SECOND));
    conn.sendBytes(escapedBatch(8, BURST));
    expect((await conn.next()).error).toBeUndefined();
    conn.destroy();
  });
});
