/**
 * The HSM going away under a running appliance (real SoftHSM2 token, real
 * SQLite keychain, real mTLS server): the token's folder is moved out of
 * SoftHSM2's token directory, as a removed token or an unmounted volume
 * looks to the module. The HSM watch (server/compose/hsm-watch.ts) seals the
 * appliance: every key request is refused SEALED with details.reason
 * 'hsm-unavailable' (no crash, no hang), Query says why and since when, the
 * trail records the seal. With the folder back, the next probe opens a new
 * session and unseals this HSM-bound keychain by itself: the same key is
 * served again, and the trail records the return.
 *
 * The probe is the watch's check(), the very code its timer runs; the timers
 * are manual, so nothing probes behind the test's back.
 */
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { ManualTimers } from '../support/manual-timers';

/** SoftHSM2's token directory, from the configuration the fixture made (SOFTHSM2_CONF). */
function tokenDirectory(): string {
  const conf = readFileSync(process.env.SOFTHSM2_CONF!, 'utf8');
  const match = /^directories\.tokendir\s*=\s*(.+)$/m.exec(conf);
  if (!match) throw new Error('no directories.tokendir in SOFTHSM2_CONF');
  return match[1].trim();
}

describe('the HSM going away under a running appliance', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: RawConnection;
  let tokenDir: string;
  let away: string;

  beforeAll(async () => {
    const clock = new ManualClock(Date.now());
    t = await startTestAppliance({}, { clock, timers: new ManualTimers(clock) });
    officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'app/payroll' })).error).toBeUndefined();
    const credentials = t.issue('payroll-app', 'app');
    await t.approve(await officer.request('PolicyGrant', { client: 'payroll-app', pattern: 'app/*', permissions: ['get'] }));
    app = await t.connect(credentials);
    const tokens = tokenDirectory();
    const [only] = readdirSync(tokens);
    tokenDir = join(tokens, only);
    away = join(tokens, '..', `${only}.away`);
  });

  afterAll(async () => {
    try {
      renameSync(away, tokenDir);
    } catch {
      /* already back */
    }
    await t?.stop();
  });

  async function material(): Promise<string> {
    const res = await app.request('Get', { name: 'app/payroll' });
    expect(res.error).toBeUndefined();
    return (res.result as { material: string }).material;
  }

  function auditOf(type: string): Array<{ result: string; custom: Record<string, string> }> {
    return t.appliance.store.audit
      .readAuditRecords(1, 100_000)
      .map((r) => JSON.parse(r.event) as { type: string; result: string; custom: Record<string, string> })
      .filter((e) => e.type === type);
  }

  let before: string;

  it('seals the appliance with a clear status, refuses keys SEALED (hsm-unavailable), and unseals once the token is back', async () => {
    before = await material();
    await t.server.hsmWatch.check();
    expect((await officer.request('Query', {})).result).toMatchObject({ hsm: { state: 'ok' }, unseal: { sealed: false } });

    renameSync(tokenDir, away);
    await t.server.hsmWatch.check();

    const refused = await app.request('Get', { name: 'app/payroll' });
    expect(refused.error).toMatchObject({ code: 'SEALED', details: { reason: 'hsm-unavailable' } });
    expect(refused.error?.message).toMatch(/HSM is unavailable.*bring the HSM .* back/);
    expect((await officer.request('Create', { name: 'app/while-gone' })).error?.code).toBe('SEALED');
    const query = (await officer.request('Query', {})).result as { hsm: Record<string, unknown>; unseal: { sealed: boolean } };
    expect(query.unseal.sealed).toBe(true);
    expect(query.hsm).toMatchObject({ state: 'unavailable', since: expect.any(String), recovery: 'automatic', error: expect.stringMatching(/^HSM_/) });
    expect(auditOf('seal').map((e) => e.custom.reason)).toEqual(['hsm-unavailable']); // durable before the probe returned

    // Still gone: the next probe keeps it sealed.
    await t.server.hsmWatch.check();
    expect((await app.request('Get', { name: 'app/payroll' })).error?.code).toBe('SEALED');

    renameSync(away, tokenDir);
    await t.server.hsmWatch.check();
    expect(await material()).toBe(before);
    expect((await officer.request('Query', {})).result).toMatchObject({ hsm: { state: 'ok', since: null }, unseal: { sealed: false } });
  });

  it('notices the loss at once when a request fails in the HSM, without waiting for the next tick', async () => {
    renameSync(tokenDir, away);
    // A backup signs its manifest with the HSM: that failure makes the watch probe now.
    expect((await officer.request('BackupCreate', {})).error?.code).toMatch(/^HSM_/);
    await t.server.hsmWatch.settled(); // the probe that failure started (none, if it started none)
    expect((await app.request('Get', { name: 'app/payroll' })).error).toMatchObject({ code: 'SEALED', details: { reason: 'hsm-unavailable' } });
    renameSync(away, tokenDir);
    await t.server.hsmWatch.check();
    expect(await material()).toBe(before);
    expect((await officer.request('Create', { name: 'app/after' })).error).toBeUndefined();
    expect(auditOf('unseal').filter((e) => e.custom.reason === 'hsm-returned')).toHaveLength(2);
  });
});
