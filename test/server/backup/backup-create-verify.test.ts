/**
 * Backups on a real appliance (SoftHSM2 token, SQLite keychain, mTLS): an
 * officer has the server make a signed backup while it serves (BackupCreate)
 * and reads it out in chunks (BackupRead); the file holds none of the key
 * material fetched in the test nor the material of a pending key import;
 * verify checks its signature, hash, counts, audit chain and opens every
 * instance with the HSM; a tampered, truncated, foreign or non-backup file
 * each fails with its own code.
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeBackupHeader } from '../../../domain/backup/backup-file';
import { manifestMessage } from '../../../domain/backup/backup-manifest';
import { verifyBackup } from '../../../domain/backup/backup-verify';
import { HsmPort } from '../../../hsm/hsm-port';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { encodingsOf, filesHolding } from '../../support/key-import-support';

interface Made {
  name: string;
  bytes: number;
  sha256: string;
  manifest: { keychainId: string; counts: Record<string, number>; auditHead: { seq: number; hash: string } | null; signer: string; createdAt: string };
}

async function readOut(officer: RawConnection, made: Made, path: string): Promise<void> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < made.bytes; ) {
    const res = await officer.request('BackupRead', { name: made.name, offset, length: 100_000 });
    expect(res.error).toBeUndefined();
    const data = Buffer.from((res.result as { data: string }).data, 'base64');
    expect(data.length).toBeGreaterThan(0);
    parts.push(data);
    offset += data.length;
  }
  writeFileSync(path, Buffer.concat(parts), { mode: 0o600 });
}

describe('backup create and verify', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let hsm: HsmPort;
  let dir: string;
  let file: string;
  let made: Made;
  const fetched: Buffer[] = [];
  const imported = randomBytes(32);

  beforeAll(async () => {
    t = await startTestAppliance({ clear_key_import: 'dual-control' });
    dir = mkdtempSync(join(tmpdir(), 'strongroom-backup-test-'));
    file = join(dir, 'keychain.srbk');
    const app = t.issue('backup-app', 'app');
    officer = await t.connect(t.officer);
    hsm = await t.appliance.hsm();
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'hr/mac', algorithm: 'HMAC-SHA256' })).error).toBeUndefined();
    await t.approve(await officer.request('PolicyGrant', { client: 'backup-app', pattern: 'hr/*', permissions: ['get'] }));
    const appConnection = await t.connect(app);
    const fetch = async (name: string): Promise<void> => {
      const res = await appConnection.request('Get', { name });
      expect(res.error).toBeUndefined();
      fetched.push(Buffer.from((res.result as { material: string }).material, 'base64'));
    };
    await fetch('hr/payroll');
    await fetch('hr/mac');
    // Rolled over: the old instance stays in the keychain (and the backup) beside the new one.
    expect((await officer.request('ReKey', { name: 'hr/payroll' })).error).toBeUndefined();
    await fetch('hr/payroll');
    // A key import left pending: its material sits in the approval record, sealed under the keychain key.
    expect((await officer.request('Register', { name: 'hr/imported', algorithm: 'AES-256', material: imported.toString('base64') })).error?.code).toBe('APPROVAL_REQUIRED');
    const res = await officer.request('BackupCreate', {});
    expect(res.error).toBeUndefined();
    made = res.result as Made;
    await readOut(officer, made, file);
  });

  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a signed backup whose manifest describes the keychain, and the copy read out is the file the server made', () => {
    const content = readFileSync(file);
    expect(content.length).toBe(made.bytes);
    expect(createHash('sha256').update(content).digest('hex')).toBe(made.sha256);
    expect(made.name).toMatch(/^backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.srbk$/);
    expect(made.manifest.keychainId).toBe(t.appliance.store.getMeta()!.keychainId);
    expect(made.manifest.counts).toMatchObject({ keys: 2, instances: 3, sealedInstances: 3 });
    // The grant's request (executed) and the import's (pending).
    expect(made.manifest.counts.approvals).toBe(2);
    expect(made.manifest.counts.clients).toBeGreaterThanOrEqual(4);
    expect(made.manifest.auditHead?.seq).toBeGreaterThan(0);
  });

  it('holds none of the key material fetched in the test, nor the pending import\'s, in any encoding', () => {
    expect(fetched).toHaveLength(3);
    expect(fetched[0].equals(fetched[2])).toBe(false);
    const needles = [...fetched, imported].flatMap((material, i) => encodingsOf(material).map((e) => ({ label: `${i}:${e.label}`, bytes: e.bytes })));
    expect(filesHolding(dir, needles)).toEqual([]);
  });

  it('verifies: signature by the HSM key, snapshot hash, counts, audit chain, and every instance opens', async () => {
    const verdict = await verifyBackup(file, { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm, workDir: dirname(file) });
    expect(verdict.instances).toEqual({ checked: true, opened: 3 });
    expect(verdict.trust).toMatchObject({ checked: true, counter: (made.manifest as unknown as { trustCounter: number }).trustCounter });
    expect(verdict.chain.events).toBe(made.manifest.auditHead?.seq);
    expect(verdict.manifest.counts).toEqual(made.manifest.counts);
  });

  const failureOf = async (path: string, signer?: string): Promise<string | undefined> => {
    try {
      await verifyBackup(path, { trustedSigner: signer ?? (await hsm.signingPublicKey()), signerSource: 'hsm', hsm, workDir: dirname(path) });
      return undefined;
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };

  const altered = (name: string, change: (bytes: Buffer) => Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, change(Buffer.from(readFileSync(file))));
    return path;
  };

  it('refuses a byte changed in the snapshot or in the manifest (BACKUP_TAMPERED)', async () => {
    const inSnapshot = altered('snapshot-flip.srbk', (b) => ((b[b.length - 100] ^= 0x01), b));
    expect(await failureOf(inSnapshot)).toBe('BACKUP_TAMPERED');
    const manifestAt = (b: Buffer): number => b.indexOf(Buffer.from('"sealedInstances":3'));
    const inManifest = altered('manifest-edit.srbk', (b) => (b.write('4', manifestAt(b) + '"sealedInstances":'.length), b));
    expect(await failureOf(inManifest)).toBe('BACKUP_TAMPERED');
    const appended = altered('appended.srbk', (b) => Buffer.concat([b, Buffer.from('x')]));
    expect(await failureOf(appended)).toBe('BACKUP_TAMPERED');
  });

  it('refuses a truncated file (BACKUP_TRUNCATED) and a file that is no backup (BACKUP_MALFORMED)', async () => {
    const cut = altered('cut.srbk', (b) => b);
    truncateSync(cut, made.bytes - 4096);
    expect(await failureOf(cut)).toBe('BACKUP_TRUNCATED');
    const headerOnly = altered('header-only.srbk', (b) => b.subarray(0, 10));
    expect(await failureOf(headerOnly)).toBe('BACKUP_TRUNCATED');
    const notBackup = altered('not-a-backup.srbk', () => readFileSync(join(t.dataDir, 'keychain.db')).subarray(0, 4096));
    expect(await failureOf(notBackup)).toBe('BACKUP_MALFORMED');
  });

  it('refuses a backup signed by a key other than the trusted one, even when its manifest names that key (BACKUP_FOREIGN_SIGNER)', async () => {
    // Another appliance's signing key, as this one would see it: an EC P-256 key it does not trust.
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await failureOf(file, otherPem)).toBe('BACKUP_FOREIGN_SIGNER');
    // A forger edits the manifest and signs it again with their own key, naming it as the signer.
    const original = readFileSync(file);
    const manifestLength = original.readUInt32BE(10);
    const signatureLength = original.readUInt16BE(14);
    const manifest = JSON.parse(original.subarray(16, 16 + manifestLength).toString('utf8'));
    const forgedBytes = Buffer.from(JSON.stringify({ ...manifest, signer: otherPem }), 'utf8');
    const signature = sign('sha256', manifestMessage(manifest.keychainId, forgedBytes), { key: other.privateKey, dsaEncoding: 'ieee-p1363' });
    const forged = altered('forged.srbk', (b) => Buffer.concat([encodeBackupHeader(forgedBytes, signature), b.subarray(16 + manifestLength + signatureLength)]));
    expect(await failureOf(forged)).toBe('BACKUP_FOREIGN_SIGNER');
  });

  it('serves backups to officers only, and reads only files it made', async () => {
    const app = await t.connect(t.issue('backup-outsider', 'app'));
    expect((await app.request('BackupCreate', {})).error?.code).toBe('PERMISSION_DENIED');
    expect((await app.request('BackupRead', { name: made.name, offset: 0, length: 10 })).error?.code).toBe('PERMISSION_DENIED');
    expect((await officer.request('BackupRead', { name: '../keychain.db', offset: 0, length: 10 })).error?.code).toBe('INVALID_ARGUMENT');
    expect((await officer.request('BackupRead', { name: 'backup-20260101T000000Z-00000000.srbk', offset: 0, length: 10 })).error?.code).toBe('BACKUP_NOT_FOUND');
    const past = await officer.request('BackupRead', { name: made.name, offset: made.bytes, length: 10 });
    expect((past.result as { data: string }).data).toBe('');
  });

  it('records each backup in the audit trail with its file and hash', async () => {
    const res = await officer.request('AuditSearch', { type: 'backup-created' });
    const events = (res.result as { events: Array<{ event: { result: string; custom: Record<string, string>; identity: { name: string } } }> }).events;
    expect(events).toHaveLength(1);
    expect(events[0].event).toMatchObject({ result: 'ok', custom: { name: made.name, sha256: made.sha256 }, identity: { name: 'test-officer' } });
  });

  it('takes a consistent snapshot while the server goes on serving writes: the backup made meanwhile verifies whole', async () => {
    const writer = await t.connect(t.approvers[0]);
    const before = made.manifest.counts.keys;
    const creates = Array.from({ length: 20 }, (_, i) => writer.request('Create', { name: `busy/k${i}`, algorithm: 'AES-256' }));
    const during = await officer.request('BackupCreate', {});
    const answers = await Promise.all(creates);
    expect(answers.every((a) => a.error === undefined)).toBe(true);
    expect(during.error).toBeUndefined();
    const concurrent = during.result as Made;
    const path = join(dir, 'during-writes.srbk');
    await readOut(officer, concurrent, path);
    const verdict = await verifyBackup(path, { trustedSigner: await hsm.signingPublicKey(), signerSource: 'hsm', hsm, workDir: dirname(path) });
    // Whatever number of the creates it caught, keys and instances agree with each other and with its trust state.
    const keys = verdict.manifest.counts.keys;
    expect(keys).toBeGreaterThanOrEqual(before);
    expect(keys).toBeLessThanOrEqual(before + 20);
    expect(verdict.manifest.counts.instances).toBe(keys + 1);
    expect(verdict.instances).toEqual({ checked: true, opened: keys + 1 });
    expect(verdict.trust.checked).toBe(true);
  });
});
