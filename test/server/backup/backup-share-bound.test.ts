/**
 * Backups of a share-bound keychain (`init --shares 3 --threshold 2`) on a
 * real appliance: SoftHSM2 token, SQLite keychain, mTLS. Issue 14: a backup
 * "is useless without the master key (and the custodians' shares, for a
 * share-bound keychain)".
 *
 * - verify with the HSM alone checks signature, manifest and trail, and
 *   says the instances open only with the shares; the restore request,
 *   made while the appliance is unsealed (the custodians opened it), opens
 *   every instance with the keychain keys they unsealed;
 * - restore: two approvals and the restart; the restored appliance comes up
 *   sealed and serves the keys again only once two custodians submit the
 *   shares of the backup's keychain;
 * - the backup and the HSM without the shares open nothing: the HSM yields
 *   only the 64-byte share-bound blob, and no part of it opens an instance;
 * - a backup bound to another share set than the keychain's now (shares
 *   made again since) is refused before a request is stored
 *   (BACKUP_SHARES_MISMATCH): restoring it would leave a keychain the
 *   current custodians cannot unseal.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { systemClock } from '../../../common/clock';
import { wipe } from '../../../common/secret';
import { verifyBackup } from '../../../domain/backup/backup-verify';
import { extractStaged } from '../../../domain/backup/restore-staging';
import { openMaterial } from '../../../domain/instance-seal';
import { unwrapKeychainKey } from '../../../domain/keychain-key';
import { bindKeychainKey, deriveUnsealKek, isBoundKeychainKey } from '../../../domain/unseal/share-binding';
import { storeShareCommitments } from '../../../domain/unseal/share-commitments';
import { decodeShare } from '../../../domain/unseal/share-codec';
import { combineShares, makeShareSet } from '../../../domain/unseal/split-secret';
import { HsmPort } from '../../../hsm/hsm-port';
import { openBackupSnapshot } from '../../../storage/backup/backup-snapshot-reader';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { encodingsOf, filesHolding } from '../../support/key-import-support';

interface Made {
  name: string;
  sha256: string;
  manifest: { unsealBinding: string; counts: { sealedInstances: number } };
}

describe('backup of a share-bound keychain', () => {
  let t: TestAppliance;
  let holder: Credentials;
  let kept: Buffer;
  let made: Made;
  const backups = (): string => join(t.dataDir, 'backups');

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' }, { shares: { shares: 3, threshold: 2 } });
    holder = t.issue('sb-holder', 'app');
    const officer = await t.connect(t.officer);
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'sb-holder', pattern: 'sb/*', permissions: ['get'] }))).state).toBe('executed');
    expect((await officer.request('Create', { name: 'sb/kept', algorithm: 'AES-256' })).error).toBeUndefined();
    kept = Buffer.from(await material('sb/kept'), 'base64');
    const answer = await officer.request('BackupCreate', {});
    expect(answer.error).toBeUndefined();
    made = answer.result as Made;
  });

  afterAll(async () => {
    await t?.stop();
  });

  async function officer(): Promise<RawConnection> {
    return t.connect(t.officer);
  }

  async function material(name: string): Promise<string> {
    const answer = await (await t.connect(holder)).request('Get', { name });
    if (answer.error) throw new Error(`${answer.error.code}: ${answer.error.message}`);
    return (answer.result as { material: string }).material;
  }

  /** The custodians' secret, from any two shares (what the unseal ceremony combines); the caller wipes it. */
  async function secretOf(shares: readonly string[]): Promise<Uint8Array> {
    const decoded = shares.slice(0, 2).map((text) => decodeShare(text).bytes);
    try {
      return await combineShares(decoded, 2);
    } finally {
      wipe(...decoded);
    }
  }

  it('verify with the HSM alone checks signature, manifest and trail, and opens no instance; the unsealed appliance opens every one for a restore request', async () => {
    expect(made.manifest.unsealBinding).toBe('hsm+shares');
    const hsm = await t.appliance.hsm();
    const verdict = await verifyBackup(join(backups(), made.name), { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm, workDir: backups() });
    expect(verdict.chain.events).toBeGreaterThan(0);
    expect(verdict.instances).toEqual({ checked: false, reason: expect.stringContaining('custodian shares') });
    expect(verdict.trust.checked).toBe(false);
    // A sealed check still catches one changed byte.
    const bytes = readFileSync(join(backups(), made.name));
    const tampered = join(mkdtempSync(join(tmpdir(), 'sb-tampered-')), 'copy.srbk');
    bytes[bytes.length - 100] ^= 0x01;
    writeFileSync(tampered, bytes);
    await expect(verifyBackup(tampered, { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm, workDir: dirname(tampered) })).rejects.toMatchObject({ code: 'BACKUP_TAMPERED' });
    rmSync(join(tampered, '..'), { recursive: true, force: true });

    // The request is verified by the unsealed appliance: every instance opened, under the keys the custodians unsealed.
    const conn = await officer();
    const requested = await conn.request('BackupRestore', { name: made.name });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    const id = (requested.error!.details as { requestId: string }).requestId;
    const shown = (await conn.request('ApprovalGet', { id })).result as { request: { args: { target: { instances: number } } } };
    expect(JSON.stringify(shown)).toContain(`"instances":${made.manifest.counts.sealedInstances}`);
    expect(made.manifest.counts.sealedInstances).toBeGreaterThan(0);
    expect((await conn.request('ApprovalCancel', { id })).error).toBeUndefined();
  });

  it('without the shares the backup and the HSM open nothing: the HSM yields only the share-bound blob, and no part of it opens an instance', async () => {
    const hsm: HsmPort = await t.appliance.hsm();
    const folder = mkdtempSync(join(tmpdir(), 'sb-snapshot-'));
    try {
      const snapshot = join(folder, 'snapshot.db');
      extractStaged(join(backups(), made.name), snapshot);
      const reader = openBackupSnapshot(snapshot);
      try {
        await expect(unwrapKeychainKey(reader.store, hsm)).rejects.toMatchObject({ code: 'UNSEAL_SHARES_REQUIRED' });
        const meta = reader.store.getMeta()!;
        const instances = [...reader.sealedInstances()];
        expect(instances.length).toBe(made.manifest.counts.sealedInstances);
        let tried = 0;
        for (const record of reader.store.listWrappedKeychainKeys()) {
          const inner = await hsm.unwrapKey({ mechanism: record.mechanism as 'AES_KEY_WRAP_PAD', masterKeyVersion: record.masterKeyVersion, wrapped: record.wrapped });
          try {
            expect(isBoundKeychainKey(inner)).toBe(true);
            // Every 32-byte window of what the HSM gives, tried as the keychain key: none opens any instance.
            for (let offset = 0; offset + 32 <= inner.length; offset++) {
              const candidate = inner.subarray(offset, offset + 32);
              for (const row of instances) {
                const binding = { keychainId: meta.keychainId, keyId: row.keyId, instanceId: row.instanceId, version: row.version, algorithm: row.algorithm, sealVersion: row.sealVersion };
                expect(() => openMaterial(candidate, binding, row.sealed)).toThrow();
                tried++;
              }
            }
          } finally {
            wipe(inner);
          }
        }
        expect(tried).toBeGreaterThan(0);
      } finally {
        reader.close();
      }
      // Nor is the material anywhere in the file, in any encoding.
      expect(filesHolding(backups(), encodingsOf(kept))).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('restores under dual control: the restored appliance comes up sealed and serves the keys once two custodians submit their shares', async () => {
    const conn = await officer();
    expect((await conn.request('Create', { name: 'sb/later', algorithm: 'AES-256' })).error).toBeUndefined();
    const requested = await conn.request('BackupRestore', { name: made.name });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    const approved = await t.approve(requested);
    expect(approved.error).toBeNull();
    await t.server.restartRequested;
    await t.restart();

    expect(t.appliance.keychain.isSealed).toBe(true);
    expect((await (await t.connect(holder)).request('Get', { name: 'sb/kept' })).error?.code).toBe('SEALED');
    const custodians = [t.officer, ...t.approvers];
    const first = await t.connect(custodians[0]);
    expect((await first.request('UnsealStatus')).result).toMatchObject({ sealed: true, mode: 'hsm+shares', threshold: 2 });
    // A share of another set is refused at submission (the restored keychain's commitments).
    const other = await makeShareSet(3, 2);
    other.secret.fill(0);
    expect((await first.request('UnsealSubmit', { share: other.shares[0] })).error?.code).toBe('UNSEAL_SHARE_INVALID');
    expect((await first.request('UnsealSubmit', { share: t.shares[0] })).result).toMatchObject({ sealed: true, submitted: 1 });
    expect((await (await t.connect(custodians[1])).request('UnsealSubmit', { share: t.shares[1] })).result).toMatchObject({ sealed: false });

    expect(Buffer.from(await material('sb/kept'), 'base64').equals(kept)).toBe(true);
    expect((await (await t.connect(holder)).request('Get', { name: 'sb/later' })).error?.code).toBe('KEY_NOT_FOUND');
    const verified = await (await officer()).request('AuditVerify', {});
    expect(verified.result).toMatchObject({ ok: true });
  });

  it('refuses a backup bound to another share set than the keychain now has (BACKUP_SHARES_MISMATCH) before any request is stored', async () => {
    const before = await (await officer()).request('BackupCreate', {});
    expect(before.error).toBeUndefined();
    const old = before.result as Made;

    // The custodians' shares made again (a new set, the same keychain key): as the rebinding would do it, in the live file.
    const hsm = await t.appliance.hsm();
    const { store } = t.appliance;
    const secret = await secretOf(t.shares);
    const fresh = await makeShareSet(3, 2);
    const unsealed = await unwrapKeychainKey(store, hsm, secret);
    const kek = deriveUnsealKek(fresh.secret, unsealed.keychainId);
    try {
      for (const record of store.listWrappedKeychainKeys()) {
        const bound = bindKeychainKey(kek, { keychainId: unsealed.keychainId, version: record.version, shares: 3, threshold: 2 }, unsealed.keys.get(record.version)!);
        const wrapped = await hsm.wrapKey(record.masterKeyVersion, bound);
        wipe(bound);
        store.rewrapKeychainKey(record.version, wrapped.masterKeyVersion, wrapped.wrapped);
      }
      await storeShareCommitments(store, hsm, systemClock, fresh.shares);
    } finally {
      wipe(kek, secret, fresh.secret);
      for (const key of unsealed.keys.values()) wipe(key);
    }

    const conn = await officer();
    const refused = await conn.request('BackupRestore', { name: old.name });
    expect(refused.error?.code).toBe('BACKUP_SHARES_MISMATCH');
    expect(refused.error?.message).toContain('custodian');
    expect(JSON.stringify((await conn.request('ApprovalList', {})).result)).not.toContain(old.name);
    // A backup made after the new shares restores as usual (request stored).
    const after = (await conn.request('BackupCreate', {})).result as Made;
    const requested = await conn.request('BackupRestore', { name: after.name });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    expect((await conn.request('ApprovalCancel', { id: (requested.error!.details as { requestId: string }).requestId })).error).toBeUndefined();
  });
});
