/**
 * A flood of refused connections cannot grow the audit trail without bound:
 * each source's refusals are recorded one by one up to a limit per window,
 * then counted into one event. Unit rows with a manual clock, then the live
 * server with real refused TLS handshakes.
 */
import { ManualClock } from '../../common/clock';
import { AuthFailureThrottle, MAX_EVENTS_PER_SOURCE, MAX_TRACKED_SOURCES, SuppressedRefusals, WINDOW_MS } from '../../server/tls/auth-failure-throttle';
import { startTestAppliance } from '../support/appliance-fixture';

describe('auth-failure throttle', () => {
  it('admits each source up to the limit per window and counts the rest', () => {
    const clock = new ManualClock(0);
    const throttle = new AuthFailureThrottle(clock);
    const closed: SuppressedRefusals[][] = [];
    const admitted = Array.from({ length: MAX_EVENTS_PER_SOURCE + 5 }, () => throttle.admit('10.0.0.1', (s) => closed.push(s))).filter(Boolean).length;
    expect(admitted).toBe(MAX_EVENTS_PER_SOURCE);
    expect(throttle.admit('10.0.0.2', (s) => closed.push(s))).toBe(true);
    clock.advance(WINDOW_MS);
    expect(throttle.admit('10.0.0.1', (s) => closed.push(s))).toBe(true);
    expect(closed).toEqual([[{ source: '10.0.0.1', count: 5, windowStart: new Date(0).toISOString() }]]);
  });

  it('shares one bucket past the tracked-source bound, so memory stays bounded', () => {
    const throttle = new AuthFailureThrottle(new ManualClock(0));
    for (let i = 0; i < MAX_TRACKED_SOURCES; i++) throttle.admit(`s${i}`, () => undefined);
    let admittedNew = 0;
    for (let i = 0; i < MAX_EVENTS_PER_SOURCE + 3; i++) if (throttle.admit(`new-${i}`, () => undefined)) admittedNew++;
    expect(admittedNew).toBe(MAX_EVENTS_PER_SOURCE);
    expect(throttle.closeWindow()).toEqual([{ source: '*', count: 3, windowStart: expect.any(String) }]);
  });
});

describe('refused connections on the live server', () => {
  it('records the first refusals of a source one by one and the rest as a count', async () => {
    const app = await startTestAppliance();
    const refusals = MAX_EVENTS_PER_SOURCE + 4;
    let events: Array<{ type: string; custom: Record<string, string> }> = [];
    try {
      for (let i = 0; i < refusals; i++) {
        try {
          const conn = await app.connect(null);
          await conn.request('Query').catch(() => undefined);
          conn.destroy();
        } catch {
          // Refused during the handshake: what this test makes happen.
        }
      }
      // Closing ends the refusal window: the counted ones are recorded then.
      await app.server.close();
      events = app.appliance.store.audit.readAuditRecords(1, 10_000).map((r) => JSON.parse(r.event));
    } finally {
      await app.stop();
    }
    const single = events.filter((e) => e.type === 'auth-failure');
    const counted = events.filter((e) => e.type === 'auth-failure-suppressed');
    expect(single.length).toBe(MAX_EVENTS_PER_SOURCE);
    expect(counted.reduce((n, e) => n + Number(e.custom.count), 0)).toBe(refusals - MAX_EVENTS_PER_SOURCE);
  });
});
