/**
 * The live server's deadlines on injected time: the appliance runs with a
 * manual clock and manual timers (test/support/manual-timers.ts), so a
 * timeout happens when the test advances time past it, and not a
 * millisecond before, whatever the machine's load. Real SoftHSM2, SQLite and
 * mutual TLS underneath; only time is the test's.
 */
import { ManualClock } from '../../common/clock';
import { AuditLiveEvent } from '../../domain/events/event-bus';
import { MAX_EVENTS_PER_SOURCE, WINDOW_MS } from '../../server/tls/auth-failure-throttle';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { ManualTimers } from '../support/manual-timers';

const IDLE_TIMEOUT_MS = 60_000;

async function manualAppliance(): Promise<{ app: TestAppliance; timers: ManualTimers }> {
  const timers = new ManualTimers(new ManualClock(Date.now()));
  const app = await startTestAppliance({ idle_timeout_ms: String(IDLE_TIMEOUT_MS) }, { clock: timers.clock, timers });
  return { app, timers };
}

describe('server timeouts on manual time', () => {
  it('closes a connection after idle_timeout_ms without a byte, and activity pushes the deadline back', async () => {
    const { app, timers } = await manualAppliance();
    try {
      // A round trip each: the server has its connection, and its countdown started at this instant.
      const quiet = await app.connect(app.officer);
      const busy = await app.connect(app.officer);
      expect((await quiet.request('Query')).error).toBeUndefined();
      expect((await busy.request('Query')).error).toBeUndefined();

      await timers.advance(IDLE_TIMEOUT_MS / 2);
      expect((await busy.request('Query')).error).toBeUndefined();

      // quiet reaches its deadline; busy spoke half a timeout ago, so it still has half of one.
      await timers.advance(IDLE_TIMEOUT_MS / 2);
      await quiet.waitClosed();
      expect(busy.closed).toBe(false);
      expect((await busy.request('Query')).error).toBeUndefined();

      await timers.advance(IDLE_TIMEOUT_MS - 1);
      expect((await busy.request('Query')).error).toBeUndefined();
      await timers.advance(IDLE_TIMEOUT_MS);
      await busy.waitClosed();
    } finally {
      await app.stop();
    }
  });

  it('records refusals past the per-source limit as one counted event when the window closes, not before', async () => {
    const { app, timers } = await manualAppliance();
    const audited: AuditLiveEvent[] = [];
    let counted: (event: AuditLiveEvent) => void = () => undefined;
    const windowClosed = new Promise<AuditLiveEvent>((resolve) => (counted = resolve));
    const unsubscribe = app.server.services.events.subscribe((live) => {
      if (live.kind !== 'audit') return;
      audited.push(live);
      if (live.event.type === 'auth-failure-suppressed') counted(live);
    });
    const refusals = MAX_EVENTS_PER_SOURCE + 3;
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
      // A round trip after the refusals: every refusal's event is durable (and published) before this answer.
      const officer = await app.connect(app.officer);
      expect((await officer.request('Query')).error).toBeUndefined();
      expect(audited.filter((live) => live.event.type === 'auth-failure')).toHaveLength(MAX_EVENTS_PER_SOURCE);

      await timers.advance(WINDOW_MS - 1);
      expect((await officer.request('Query')).error).toBeUndefined();
      expect(audited.some((live) => live.event.type === 'auth-failure-suppressed')).toBe(false);

      await timers.advance(1);
      const suppressed = await windowClosed;
      expect(suppressed.event.custom.count).toBe(String(refusals - MAX_EVENTS_PER_SOURCE));
    } finally {
      unsubscribe();
      await app.stop();
    }
  });
});
