/**
 * Scheduled backups and retention on a real appliance (SoftHSM2 token,
 * SQLite keychain, mTLS) driven by a manual clock and timers: the schedule's
 * timer makes a backup as the server (a `backup-created` event with no
 * client, trigger schedule) that verifies with the HSM; an officer's
 * on-demand backup counts as the period's; after the next scheduled one,
 * retention (2) removes the oldest, audited after its intent, and leaves the
 * operator's own files alone; Query shows officers (not applications) the
 * last scheduled run and the next due time; a sealed appliance's scheduled backup fails SEALED, is
 * audited, and the next check after the unseal makes it; a folder that
 * cannot be written fails STORAGE_ERROR, audited, and the server serves on.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ManualClock } from '../../../common/clock';
import { AuditEvent } from '../../../domain/audit/audit-event';
import { verifyBackup } from '../../../domain/backup/backup-verify';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { ManualTimers } from '../../support/manual-timers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface BackupsStatus {
  schedule: string;
  retention: number;
  lastScheduled: { at: string; outcome: string; name?: string } | null;
  nextDueAt: string;
}

describe('scheduled backups and retention', () => {
  const timers = new ManualTimers(new ManualClock(Date.UTC(2026, 11, 7, 0, 30, 0)));
  let t: TestAppliance;
  let officer: RawConnection;
  let backupDir: string;
  let app: Credentials;

  const events = async (type: string): Promise<AuditEvent[]> =>
    ((await officer.request('AuditSearch', { type, limit: 1000 })).result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
  const backups = (): string[] => (existsSync(backupDir) ? readdirSync(backupDir).filter((n) => n.endsWith('.srbk')).sort() : []);
  const status = async (): Promise<BackupsStatus> => ((await officer.request('Query', {})).result as { backups: BackupsStatus }).backups;
  /**
   * Moves the appliance's time on and runs the check the schedule's timer
   * runs. (Firing every timer through a manual day would fire the server's
   * quarter-second change watch 345,600 times: the first test shows the
   * server's own timer firing the check, the unit tests the timer's cadence.)
   */
  const later = async (ms: number): Promise<void> => {
    timers.clock.advance(ms);
    await t.server.backupSchedule!.check();
  };

  beforeAll(async () => {
    // Hourly checkpoints and sweeps, and an idle timeout longer than the test's manual days: the hour of timers it fires holds one of each, and the officer stays connected.
    t = await startTestAppliance(
      { backup_schedule: 'P1D', backup_retention: '2', audit_checkpoint_interval_ms: String(HOUR), rollover_check_interval_ms: String(HOUR), idle_timeout_ms: String(30 * DAY) },
      { clock: timers.clock, timers },
    );
    backupDir = t.appliance.config.values.backup_dir as string;
    app = t.issue('schedule-app', 'app');
    officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
  });

  afterAll(async () => {
    await t.stop();
  });

  it('makes a verifying backup at the first check, as the server', async () => {
    expect(await status()).toMatchObject({ schedule: 'P1D', retention: 2, lastScheduled: null });
    // The server started the schedule on its timers: the first check comes an hour after start, and idle() waits for it (it starts none).
    await timers.advance(HOUR - 1);
    await t.server.backupSchedule!.idle();
    expect(backups()).toEqual([]);
    await timers.advance(1);
    await t.server.backupSchedule!.idle();
    const made = backups();
    expect(made).toHaveLength(1);
    const created = await events('backup-created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ identity: null, result: 'ok', custom: { name: made[0], trigger: 'schedule' } });
    const hsm = await t.appliance.hsm();
    const verdict = await verifyBackup(join(backupDir, made[0]), { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm, workDir: backupDir });
    expect(verdict.ok).toBe(true);
    expect(verdict.instances).toMatchObject({ checked: true, opened: 1 });
    expect(await status()).toEqual({
      schedule: 'P1D',
      retention: 2,
      lastScheduled: { at: new Date(timers.clock.nowMs()).toISOString(), outcome: 'ok', name: made[0] },
      nextDueAt: new Date(timers.clock.nowMs() + DAY).toISOString(),
    });
  });

  it('counts an on-demand backup as the period’s, then keeps the newest two and nothing but the server’s files goes', async () => {
    const [scheduled] = backups();
    writeFileSync(join(backupDir, 'notes.txt'), 'the operator’s own file');
    writeFileSync(join(backupDir, 'backup-20000101T000000Z-aaaaaaaa.srbk.keep'), 'a look-alike name');
    timers.clock.advance(HOUR);
    const onDemand = await officer.request('BackupCreate', {});
    expect(onDemand.error).toBeUndefined();
    const onDemandName = (onDemand.result as { name: string }).name;
    expect(backups()).toEqual([scheduled, onDemandName].sort());
    // A day after the first backup, but not after the on-demand one: nothing new.
    await later(DAY - HOUR);
    expect(backups()).toHaveLength(2);
    await later(HOUR);
    const now = backups();
    expect(now).toHaveLength(2);
    expect(now).toContain(onDemandName);
    expect(now).not.toContain(scheduled);
    const third = now.find((n) => n !== onDemandName)!;
    expect(readdirSync(backupDir)).toEqual(expect.arrayContaining(['notes.txt', 'backup-20000101T000000Z-aaaaaaaa.srbk.keep']));
    const deleted = await events('backup-deleted');
    expect(deleted.map((e) => [e.identity, e.result, e.custom.name, e.custom.reason, e.custom.after])).toEqual([[null, 'ok', scheduled, 'retention', third]]);
    const intents = (await events('intent')).filter((e) => e.custom.remove !== undefined);
    expect(intents.map((e) => e.custom.remove)).toEqual([scheduled]);
    expect((await status()).lastScheduled).toMatchObject({ outcome: 'ok', name: third });
    // BackupList tells the two apart from their signed manifests; the operator's files are counted, not listed.
    const listed = (await officer.request('BackupList', {})).result as { backups: Array<{ name: string; manifest: { trigger: string } }>; otherFiles: number };
    expect(listed.backups.map((b) => [b.name, b.manifest.trigger])).toEqual([[third, 'schedule'], [onDemandName, 'request']]);
    expect(listed.otherFiles).toBe(2);
  });

  it('shows the schedule to officers and auditors only, as it shows the audit sinks', async () => {
    const appQuery = (await (await t.connect(app)).request('Query', {})).result as Record<string, unknown>;
    expect(appQuery.server).toBe('strongroom');
    expect(appQuery).not.toHaveProperty('backups');
  });

  it('audits a sealed appliance’s scheduled backup as SEALED and makes it at the next check after the unseal', async () => {
    const before = backups();
    await later(DAY);
    expect(backups()).toHaveLength(2);
    expect(backups()).not.toEqual(before);
    const kept = backups();
    expect((await officer.request('Seal', {})).error).toBeUndefined();
    await later(DAY);
    expect(backups()).toEqual(kept);
    const failed = await status();
    expect(failed.lastScheduled).toMatchObject({ at: new Date(timers.clock.nowMs()).toISOString(), outcome: 'SEALED' });
    expect(failed.nextDueAt).toBe(new Date(timers.clock.nowMs() + HOUR).toISOString());
    await t.appliance.unseal();
    const refused = (await events('backup-created')).filter((e) => e.result === 'SEALED');
    expect(refused.map((e) => [e.identity, e.custom.trigger])).toEqual([[null, 'schedule']]);
    await later(HOUR);
    expect(backups()).toHaveLength(2);
    expect(backups().filter((n) => !kept.includes(n))).toHaveLength(1);
    expect((await status()).lastScheduled).toMatchObject({ outcome: 'ok' });
  });
});

describe('a scheduled backup the folder cannot take', () => {
  const timers = new ManualTimers(new ManualClock(Date.UTC(2026, 11, 7, 0, 30, 0)));
  let t: TestAppliance;
  let officer: RawConnection;
  let blocker: string;

  beforeAll(async () => {
    // backup_dir names a file: the folder cannot be made (as root, a mode would not stop it; a file in the way does).
    blocker = join(mkdtempSync(join(tmpdir(), 'strongroom-backup-blocked-')), 'backups');
    writeFileSync(blocker, 'not a folder');
    t = await startTestAppliance({ backup_schedule: 'P1D', backup_dir: blocker, idle_timeout_ms: String(30 * DAY) }, { clock: timers.clock, timers });
    officer = await t.connect(t.officer);
  });

  afterAll(async () => {
    await t.stop();
    rmSync(dirname(blocker), { recursive: true, force: true });
  });

  it('is audited as STORAGE_ERROR by the server, the server serves on, and the next check after the cause is gone makes it', async () => {
    timers.clock.advance(HOUR);
    await t.server.backupSchedule!.check();
    const query = (await officer.request('Query', {})).result as { backups: BackupsStatus };
    expect(query.backups.lastScheduled).toMatchObject({ outcome: 'STORAGE_ERROR', message: expect.stringContaining('no backup was made') });
    const search = async (): Promise<AuditEvent[]> =>
      ((await officer.request('AuditSearch', { type: 'backup-created' })).result as { events: Array<{ event: AuditEvent }> }).events.map((e) => e.event);
    expect((await search()).map((e) => [e.identity, e.result, e.custom.trigger])).toEqual([[null, 'STORAGE_ERROR', 'schedule']]);
    rmSync(blocker);
    timers.clock.advance(HOUR);
    await t.server.backupSchedule!.check();
    expect(readdirSync(blocker).filter((n) => n.endsWith('.srbk'))).toHaveLength(1);
    expect((await search()).map((e) => e.result)).toEqual(['STORAGE_ERROR', 'ok']);
  });
});
