/**
 * Restore's decision before anything changes (domain/backup/restore-preflight.ts),
 * on a real appliance: a backup as new as the keychain's signed state may be
 * restored; once the keychain moved on and the HSM token anchored its later
 * state (a restart unseals and anchors), the older backup is refused with
 * BACKUP_OLDER_THAN_CURRENT unless chosen on purpose, and then the restored
 * trust counter must go above the token's anchor; a backup whose instances
 * this HSM did not open is not restorable at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planRestore, CurrentKeychainState } from '../../../domain/backup/restore-preflight';
import { BackupVerdict, verifyBackup } from '../../../domain/backup/backup-verify';
import { readFreshnessAnchor } from '../../../domain/trust/freshness-anchor';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

describe('restore preflight', () => {
  let t: TestAppliance;
  let dir: string;

  beforeAll(async () => {
    t = await startTestAppliance();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-restore-preflight-'));
  });

  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A backup made by the running server, copied here and verified with its HSM (or without, `withHsm` false). */
  async function backup(file: string, withHsm = true): Promise<BackupVerdict> {
    const officer = await t.connect(t.officer);
    const made = (await officer.request('BackupCreate', {})).result as { name: string; bytes: number };
    const read = await officer.request('BackupRead', { name: made.name, offset: 0, length: made.bytes });
    writeFileSync(join(dir, file), Buffer.from((read.result as { data: string }).data, 'base64'));
    const hsm = await t.appliance.hsm();
    return verifyBackup(join(dir, file), { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm: withHsm ? hsm : undefined, workDir: dir });
  }

  async function current(keychainId: string): Promise<CurrentKeychainState> {
    const { store } = t.appliance;
    return { keychainId: store.getMeta()!.keychainId, lastCheckpointSeq: store.audit.lastAuditCheckpoint()?.seq ?? null, anchorForBackup: await readFreshnessAnchor(await t.appliance.hsm(), keychainId) };
  }

  it('allows a backup as new as the signed state, refuses it once the keychain moved on and was anchored, unless chosen', async () => {
    const early = await backup('early.srbk');
    const id = early.manifest.keychainId;
    expect(planRestore(early, await current(id), false)).toMatchObject({ keychainId: id, sameKeychain: true, older: false });

    const officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'later/k', algorithm: 'AES-256' })).error).toBeUndefined();
    // A restart signs a checkpoint at stop and anchors the trust counter in the token at unseal.
    await t.restart();
    const now = await current(id);
    expect(now.anchorForBackup).toBeGreaterThan(early.manifest.trustCounter ?? 0);

    let refused: { code?: string } | null = null;
    try {
      planRestore(early, now, false);
    } catch (err) {
      refused = err as { code?: string };
    }
    expect(refused?.code).toBe('BACKUP_OLDER_THAN_CURRENT');
    const chosen = planRestore(early, now, true);
    expect(chosen.older).toBe(true);
    expect(chosen.nextTrustCounter).toBeGreaterThan(now.anchorForBackup ?? 0);

    const late = await backup('late.srbk');
    expect(planRestore(late, await current(id), false).older).toBe(false);
  });

  it('refuses a backup whose instances this HSM has not opened (WRONG_STATE)', async () => {
    const unopened = await backup('unopened.srbk', false);
    expect(() => planRestore(unopened, { keychainId: null, lastCheckpointSeq: null, anchorForBackup: null }, false)).toThrow(expect.objectContaining({ code: 'WRONG_STATE' }));
  });
});
