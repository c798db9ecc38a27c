/**
 * Attack: someone who can write the database file appends, after the last
 * checkpoint, a well-chained `rollover-notice` record of the wrong shape (no
 * `custom`, or a `custom` whose fields are not strings). Before the fix the
 * notice reader threw on it without moving past it, so every later check
 * failed on the same record, no key was noticed again (across restarts too),
 * and the compliance report answered INTERNAL_ERROR for everyone.
 * Now such a record counts for nothing (it is logged as not the appliance's),
 * the real notice is recorded, and the report lists the record as not genuine.
 * Real appliance (SoftHSM2, SQLite trail, mTLS) on an injected clock.
 */
import { ManualClock } from '../../common/clock';
import { Logger } from '../../common/logger';
import { nextRecord } from '../../domain/audit/audit-chain';
import { AuditEvent } from '../../domain/audit/audit-event';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { ManualTimers } from '../support/manual-timers';

const DAY_MS = 86_400_000;

describe('attack 13: a malformed rollover notice written into the trail', () => {
  const timers = new ManualTimers(new ManualClock(Date.now()));
  const warnings: string[] = [];
  const errors: string[] = [];
  const log = {
    error: (message: string) => {
      errors.push(message);
      return log;
    },
    warn: (message: string) => {
      warnings.push(message);
      return log;
    },
    info: () => log,
    debug: () => log,
  } as unknown as Logger;
  let app: TestAppliance;
  let officer: RawConnection;

  const notices = async (): Promise<AuditEvent[]> => {
    const answer = await officer.request('AuditSearch', { type: 'rollover-notice', limit: 1000 });
    expect(answer.error).toBeUndefined();
    return (answer.result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
  };

  beforeAll(async () => {
    app = await startTestAppliance({ rollover_notice: 'P7D', timezone: 'UTC' }, { clock: timers.clock, timers, log });
    officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/soon', rollover: 'auto', cryptoperiod: 'P10D' })).error).toBeUndefined();
  });

  afterAll(async () => {
    await app.stop();
  });

  it('does not stop the real notice, across a restart, and the report still answers', async () => {
    const [model] = ((await officer.request('AuditSearch', { limit: 1 })).result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
    const noCustom: Record<string, unknown> = { ...model, eventId: 'forged-no-custom', type: 'rollover-notice' };
    delete noCustom.custom;
    const wrongTypes = { ...model, eventId: 'forged-wrong-types', type: 'rollover-notice', instance: 'x', custom: { keyId: 7, dueAt: ['2099-01-01'] } };
    app.appliance.store.audit.appendAuditRecordsFromHead((head) => {
      const first = nextRecord(head, JSON.stringify(noCustom));
      return [first, nextRecord(first, JSON.stringify(wrongTypes))];
    });

    timers.clock.advance(4 * DAY_MS); // hr/soon (P10D) is now due within 7 days
    await app.server.rollover.sweep();
    await app.server.rollover.sweep();
    expect(errors).toEqual([]);
    expect((await notices()).filter((e) => e.key === 'hr/soon')).toHaveLength(1);
    expect(warnings.filter((w) => /not one this appliance wrote/.test(w))).toHaveLength(2);

    await app.restart();
    officer = await app.connect(app.officer);
    await app.server.rollover.sweep();
    expect(errors).toEqual([]);
    expect((await notices()).filter((e) => e.key === 'hr/soon')).toHaveLength(1);

    timers.clock.advance(60_000); // the report's period ends now, exclusive
    const report = await officer.request('Report', {});
    expect(report.error).toBeUndefined();
    const listed = (report.result as { upcomingRollovers: { notices: Array<{ key: string | null; genuine: boolean | null }> } }).upcomingRollovers.notices;
    expect(listed.map((n) => n.genuine)).toEqual([false, false, true]);
    expect(listed[2].key).toBe('hr/soon');
  });
});
