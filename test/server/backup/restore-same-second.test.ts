/**
 * Two restores applied within one second of the clock (found by the chaos
 * test, test/integration/chaos-sigkill.test.ts, whose restore scenario
 * restores, restarts and restores again): each replaced keychain is kept
 * under its own name, and the second restart opens the restored keychain.
 * The kept file's name was `keychain.db.pre-restore-<second>`, so the second
 * restore's swap found that name taken by the first one's kept file and the
 * start failed (INTEGRITY_FAILURE, "move it aside"): an appliance down after
 * an approved restore until an operator moved a file. The clock is frozen
 * here, so the two restores share their second by construction.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { ManualClock } from '../../../common/clock';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

describe('two restores in the same second', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' }, { clock: new ManualClock(Date.now()) });
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** A backup, a key after it, the approved restore of the backup and the restart; returns the kept file and the later key. */
  async function backupThenRestore(later: string): Promise<string> {
    const officer = await t.connect(t.officer);
    const made = await officer.request('BackupCreate', {});
    expect(made.error).toBeUndefined();
    expect((await officer.request('Create', { name: later, algorithm: 'AES-256' })).error).toBeUndefined();
    const approved = await t.approve(await officer.request('BackupRestore', { name: (made.result as { name: string }).name }));
    expect(approved.error).toBeNull();
    const staged = await t.server.restartRequested;
    await t.restart();
    expect(t.appliance.restore).toMatchObject({ outcome: 'restored', keptAs: staged.keptAs });
    return staged.keptAs;
  }

  it('keeps each replaced keychain under its own name and opens the restored one both times', async () => {
    const first = await backupThenRestore('same/first-later');
    const second = await backupThenRestore('same/second-later');
    expect(basename(second)).not.toBe(basename(first));
    expect(existsSync(first)).toBe(true);
    expect(existsSync(second)).toBe(true);
    expect(readdirSync(t.dataDir).filter((n) => n.includes('.pre-restore-')).sort()).toEqual([basename(first), basename(second)].sort());
    // Each restore went back to its backup: the key made after it is gone.
    const officer = await t.connect(t.officer);
    expect((await officer.request('Get', { name: 'same/second-later' })).error?.code).toBe('KEY_NOT_FOUND');
  });
});
