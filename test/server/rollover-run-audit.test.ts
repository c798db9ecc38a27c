/**
 * RolloverRun (an officer's "roll what is due now") changes which instance
 * is current: the trail must say which, as the server's own sweep does.
 * Each instance it activates gets an `activated` event and each key it rolls
 * a `rollover` event, naming the key, the instance and the officer who ran
 * it; and a ReKey with an activation date names the instance it made (not
 * yet current) rather than the current one. Review finding: the trail held
 * only RolloverRun's counts, and the dated ReKey named the old instance.
 * Real appliance (SoftHSM2, SQLite trail, mTLS) on an injected clock.
 */
import { ManualClock } from '../../common/clock';
import { AuditEvent } from '../../domain/audit/audit-event';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { ManualTimers } from '../support/manual-timers';

const DAY_MS = 86_400_000;

interface Described {
  key: { currentInstance: string };
  instances: Array<{ name: string; version: number }>;
}

describe('RolloverRun and dated ReKey in the audit trail', () => {
  const timers = new ManualTimers(new ManualClock(Date.now()));
  let app: TestAppliance;
  let officer: RawConnection;

  const events = async (): Promise<AuditEvent[]> =>
    ((await officer.request('AuditSearch', { limit: 1000 })).result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
  const describeKey = async (name: string): Promise<Described> => (await officer.request('GetAttributes', { name })).result as Described;

  beforeAll(async () => {
    app = await startTestAppliance({ timezone: 'UTC' }, { clock: timers.clock, timers });
    officer = await app.connect(app.officer);
  });

  afterAll(async () => {
    await app.stop();
  });

  it('names the instance each change made current, and who ran it', async () => {
    expect((await officer.request('Create', { name: 'hr/dated', rollover: 'manual' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'hr/auto', rollover: 'auto', cryptoperiod: 'P1D' })).error).toBeUndefined();
    const rekey = await officer.request('ReKey', { name: 'hr/dated', activateAt: new Date(timers.clock.nowMs() + DAY_MS).toISOString() });
    expect(rekey.error).toBeUndefined();
    const dated = rekey.result as Described;
    const successor = dated.instances.find((i) => i.version === 2)!.name;
    expect(dated.key.currentInstance).not.toBe(successor);
    const rekeyEvent = (await events()).filter((e) => e.type === 'operation' && e.operation === 'ReKey');
    expect(rekeyEvent.map((e) => [e.key, e.instance])).toEqual([['hr/dated', successor]]);

    timers.clock.advance(3 * DAY_MS); // hr/dated's date has come; hr/auto's one-day cryptoperiod has ended
    const run = await officer.request('RolloverRun', {});
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ activated: 1, rolled: 1 });
    expect((await describeKey('hr/dated')).key.currentInstance).toBe(successor);
    const rolledTo = (await describeKey('hr/auto')).key.currentInstance;

    const trail = await events();
    const byRun = trail.filter((e) => e.operation === 'RolloverRun' && (e.type === 'activated' || e.type === 'rollover'));
    expect(byRun.map((e) => [e.type, e.key, e.instance])).toEqual([
      ['activated', 'hr/dated', successor],
      ['rollover', 'hr/auto', rolledTo],
    ]);
    const officerIdentity = rekeyEvent[0].identity;
    expect(officerIdentity).toMatchObject({ role: 'officer' });
    for (const event of byRun) expect(event.identity).toEqual(officerIdentity);
    // The changes' events come before RolloverRun's own outcome, after its intent.
    const seqOf = (predicate: (e: AuditEvent) => boolean): number => trail.findIndex(predicate);
    expect(seqOf((e) => e.type === 'intent' && e.operation === 'RolloverRun')).toBeLessThan(seqOf((e) => e.type === 'activated'));
    expect(seqOf((e) => e.type === 'rollover' && e.operation === 'RolloverRun')).toBeLessThan(seqOf((e) => e.type === 'operation' && e.operation === 'RolloverRun'));
  });
});
