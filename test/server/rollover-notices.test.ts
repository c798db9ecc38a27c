/**
 * Rollover notices where officers look (issue 16 item 11), on a real
 * appliance (SoftHSM2 token, SQLite keychain and trail, mTLS) whose clock
 * and timers the test drives: a key coming within `rollover_notice` gets
 * ONE `rollover-notice` audit event across two sweeps and a restart (and one
 * live event); `audit search` and the compliance report (Markdown, over the
 * wire, through the compiled CLI) show it; a notice forged into the trail's
 * file does not silence the real one; `rollover due --within P7D` lists
 * exactly the keys due in the window, as of the appliance's (injected) now.
 *
 * Keys are created at real time T0 (the keychain's clock) with the
 * appliance's clock M0 just before it, in UTC: a PnD key is due at the
 * midnight ending its n-th day, in (T0 + (n-1) days, T0 + n days].
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { Logger } from '../../common/logger';
import { nextRecord } from '../../domain/audit/audit-chain';
import { AuditEvent, canonicalEvent } from '../../domain/audit/audit-event';
import { LiveEvent } from '../../domain/events/event-bus';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { assertCliBuilt, cliAsync, CliRun } from '../support/cli-runner';
import { ManualTimers } from '../support/manual-timers';

const DAY_MS = 86_400_000;

interface Described {
  key: { id: string; currentInstance: string; nextRolloverAt: string };
}

describe('rollover notices in the audit trail', () => {
  const timers = new ManualTimers(new ManualClock(Date.now()));
  const warnings: Array<{ message: string; meta: unknown }> = [];
  const log = {
    error: () => log,
    warn: (message: string, meta: unknown) => {
      warnings.push({ message, meta });
      return log;
    },
    info: () => log,
    debug: () => log,
  } as unknown as Logger;
  const live: LiveEvent[] = [];
  let app: TestAppliance;
  let officer: RawConnection;
  let dir: string;
  let keys: Record<string, Described['key']>;

  const officerCli = (...args: string[]): Promise<CliRun> =>
    cliAsync(['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, '--cert', join(dir, 'officer.crt'), '--key', join(dir, 'officer.key'), '--ca', join(dir, 'ca.pem'), ...args]);
  const asOfficer = (...args: string[]): Promise<CliRun> => officerCli('--json', ...args);
  const notices = async (): Promise<AuditEvent[]> => {
    const answer = await officer.request('AuditSearch', { type: 'rollover-notice', limit: 1000 });
    expect(answer.error).toBeUndefined();
    return (answer.result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
  };
  const describe_ = async (name: string): Promise<Described['key']> => ((await officer.request('GetAttributes', { name })).result as Described).key;

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-notices-'));
    app = await startTestAppliance({ rollover_notice: 'P7D', timezone: 'UTC' }, { clock: timers.clock, timers, log });
    officer = await app.connect(app.officer);
    for (const [name, cryptoperiod] of [['hr/soon', 'P10D'], ['hr/forged', 'P12D'], ['hr/later', 'P30D'], ['hr/manual', null]] as const) {
      const created = await officer.request('Create', { name, ...(cryptoperiod === null ? { rollover: 'manual' } : { rollover: 'auto', cryptoperiod }) });
      expect(created.error).toBeUndefined();
    }
    keys = Object.fromEntries(await Promise.all(['hr/soon', 'hr/forged', 'hr/later'].map(async (name) => [name, await describe_(name)])));
    writeFileSync(join(dir, 'officer.crt'), app.officer.certificatePem);
    writeFileSync(join(dir, 'officer.key'), app.officer.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), app.officer.caPem);
  });

  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records no notice before a key is within rollover_notice', async () => {
    await app.server.rollover.sweep();
    expect(await notices()).toEqual([]);
  });

  it('records a notice once across two sweeps, with the key, instance, due date and cryptoperiod, and tells the live stream once', async () => {
    const unsubscribe = app.server.services.events.subscribe((event) => live.push(event));
    timers.clock.advance(4 * DAY_MS); // hr/soon (P10D) is now due within 7 days; hr/forged (P12D) is not.
    await app.server.rollover.sweep();
    await app.server.rollover.sweep();
    unsubscribe();
    const recorded = await notices();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      type: 'rollover-notice',
      key: 'hr/soon',
      instance: keys['hr/soon'].currentInstance,
      result: 'ok',
      custom: { dueAt: keys['hr/soon'].nextRolloverAt, cryptoperiod: 'P10D', noticePeriod: 'P7D', keyId: keys['hr/soon'].id },
    });
    expect(live.filter((e) => e.kind === 'rollover-notice')).toEqual([expect.objectContaining({ kind: 'rollover-notice', key: 'hr/soon', dueAt: keys['hr/soon'].nextRolloverAt })]);
    // The notice is an audit event like any other: the stream's audit kind carried it too.
    expect(live.filter((e) => e.kind === 'audit' && e.event.type === 'rollover-notice')).toHaveLength(1);
  });

  it('does not record it again after a restart (the trail tells the new process)', async () => {
    await app.restart();
    officer = await app.connect(app.officer);
    await app.server.rollover.sweep();
    await app.server.rollover.sweep();
    expect((await notices()).map((e) => e.key)).toEqual(['hr/soon']);
  });

  it('is not silenced by a notice forged into the trail file: the real one is recorded, the forgery logged', async () => {
    const [genuine] = await notices();
    const target = keys['hr/forged'];
    // What someone with the database file could append: a well-chained notice for hr/forged, with a MAC copied from a real one.
    const forged: AuditEvent = { ...genuine, eventId: 'forged-1', key: 'hr/forged', instance: target.currentInstance, custom: { ...genuine.custom, dueAt: target.nextRolloverAt, keyId: target.id, cryptoperiod: 'P12D' } };
    app.appliance.store.audit.appendAuditRecordsFromHead((head) => [nextRecord(head, canonicalEvent(forged))]);
    await app.restart();
    officer = await app.connect(app.officer);
    timers.clock.advance(2 * DAY_MS); // hr/forged is now within 7 days too.
    await app.server.rollover.sweep();
    const forHrForged = (await notices()).filter((e) => e.key === 'hr/forged');
    expect(forHrForged.map((e) => e.eventId)).toEqual(['forged-1', expect.not.stringMatching(/^forged/)]);
    expect(forHrForged[1].custom.noticeMac).not.toBe(genuine.custom.noticeMac);
    expect(warnings.filter((w) => /not one this appliance wrote/.test(w.message))).toEqual([expect.objectContaining({ meta: expect.objectContaining({ key: 'hr/forged' }) })]);
    await app.server.rollover.sweep();
    expect((await notices()).filter((e) => e.key === 'hr/forged')).toHaveLength(2);
  });

  it('shows the notices to `audit search` and in the report\'s "upcoming rollovers" (CLI over the wire)', async () => {
    const search = await asOfficer('audit', 'search', '--type', 'rollover-notice');
    expect(search.status).toBe(0);
    expect(search.json.events.map((e: { event: AuditEvent }) => e.event.key)).toEqual(['hr/soon', 'hr/forged', 'hr/forged']);

    // The report's period ends now, exclusive: a minute on, it includes the notice recorded at the last sweep.
    timers.clock.advance(60_000);
    const report = await asOfficer('report');
    expect(report.status).toBe(0);
    const upcoming = report.json.upcomingRollovers;
    expect(upcoming.notices.map((n: { key: string }) => n.key)).toEqual(['hr/soon', 'hr/forged', 'hr/forged']);
    expect(upcoming.notices[0]).toMatchObject({ key: 'hr/soon', instance: keys['hr/soon'].currentInstance, dueAt: keys['hr/soon'].nextRolloverAt, cryptoperiod: 'P10D', genuine: true });
    // The forged notice is listed as what it is; the scheduled rollover shows when its genuine notice came.
    expect(upcoming.notices.map((n: { genuine: boolean }) => n.genuine)).toEqual([true, false, true]);
    expect(upcoming.scheduled[1].noticedAt).toBe(upcoming.notices[2].noticedAt);
    // Soonest first; hr/later has no notice yet; hr/manual has no automatic rollover.
    expect(upcoming.scheduled.map((s: { key: string }) => s.key)).toEqual(['hr/soon', 'hr/forged', 'hr/later']);
    expect(upcoming.scheduled[0].noticedAt).toBe(upcoming.notices[0].noticedAt);
    expect(upcoming.scheduled[2].noticedAt).toBeNull();

    const markdown = await officerCli('report', '--format', 'md');
    expect(markdown.status).toBe(0);
    const section = markdown.stdout.slice(markdown.stdout.indexOf('## Upcoming rollovers'), markdown.stdout.indexOf('## Access'));
    expect(section).toContain(`| hr/soon | ${keys['hr/soon'].currentInstance.replace(/[\\`*_[\]|#~]/g, (c) => `\\${c}`)} | ${keys['hr/soon'].nextRolloverAt} | P10D |`);
    expect(section).toMatch(/Rollover notices recorded in the audit trail/);
  });

  it('lists with `rollover due --within` exactly the keys due in the window, as of the appliance\'s now or --at', async () => {
    const now = timers.clock.nowMs(); // M0 + 6 days and a minute: hr/soon and hr/forged are due within 7 days, hr/later is not.
    const within = await asOfficer('rollover', 'due', '--within', 'P7D');
    expect(within.status).toBe(0);
    expect(within.json).toMatchObject({ from: new Date(now).toISOString(), within: 'P7D', at: new Date(now + 7 * DAY_MS).toISOString() });
    expect(within.json.due).toEqual([
      { name: 'hr/soon', nextRolloverAt: keys['hr/soon'].nextRolloverAt },
      { name: 'hr/forged', nextRolloverAt: keys['hr/forged'].nextRolloverAt },
    ]);
    // The window's end is inclusive, to the millisecond.
    const later = keys['hr/later'].nextRolloverAt;
    const exactly = await asOfficer('rollover', 'due', '--at', new Date(Date.parse(later) - 7 * DAY_MS).toISOString(), '--within', 'P7D');
    expect(exactly.json.due.map((d: { name: string }) => d.name)).toEqual(['hr/soon', 'hr/forged', 'hr/later']);
    const justBefore = await asOfficer('rollover', 'due', '--at', new Date(Date.parse(later) - 7 * DAY_MS - 1).toISOString(), '--within', 'P7D');
    expect(justBefore.json.due.map((d: { name: string }) => d.name)).toEqual(['hr/soon', 'hr/forged']);
    const text = await officerCli('rollover', 'due', '--within', 'P1W');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Due within P1W of /);
    expect(text.stdout).toContain(`hr/soon`);
    expect(text.stdout).not.toContain('hr/later');
    const months = await asOfficer('rollover', 'due', '--within', 'P1M');
    expect([months.status, months.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(months.json.error.message).toMatch(/write days, e\.g\. P30D/);
  });
});
