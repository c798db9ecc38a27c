/**
 * What `backup list` reads of backup_dir (domain/backup/backup-list.ts), on
 * a real folder with files in the backup format signed by real P-256 keys:
 * newest first; each described from its signed manifest, `signedHere` only
 * for this appliance's key; a cut, altered or unparsable file listed with
 * its code, not hidden; a FIFO under a backup's name listed without
 * blocking; symbolic links, folders and dot-files skipped, other files
 * counted; a missing folder is empty (the helper retention and the
 * killed-writer clean-up share, domain/backup/backup-dir.ts).
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBackupHeader } from '../../../domain/backup/backup-file';
import { backupDirNames } from '../../../domain/backup/backup-dir';
import { listBackupFiles } from '../../../domain/backup/backup-list';
import { manifestMessage } from '../../../domain/backup/backup-manifest';
import { publicKeyFingerprint } from '../../../domain/audit/audit-checkpoint';

const ours = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const theirs = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (pair: typeof ours): string => pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A backup file as the maker writes one: header, manifest signed by `pair`, then a stand-in snapshot. */
function backupBytes(pair: typeof ours, extra: Record<string, unknown> = {}): Buffer {
  const snapshot = Buffer.from('an SQLite keychain file would be here');
  const manifest = {
    format: 'strongroom-backup',
    formatVersion: 1,
    createdAt: '2026-12-07T08:15:00.000Z',
    keychainId: 'kc-1',
    masterKeyVersions: [1, 2],
    unsealBinding: 'hsm',
    counts: { sealedInstances: 12 },
    auditHead: { seq: 41, hash: 'ab' },
    trustCounter: 9,
    database: { bytes: snapshot.length, sha256: createHash('sha256').update(snapshot).digest('hex') },
    signer: pem(pair),
    ...extra,
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const signature = sign('sha256', manifestMessage(manifest.keychainId, manifestBytes), { key: pair.privateKey, dsaEncoding: 'ieee-p1363' });
  return Buffer.concat([encodeBackupHeader(manifestBytes, signature), snapshot]);
}

describe('backup list', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-backup-list-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (name: string, bytes: Buffer): void => writeFileSync(join(dir, name), bytes, { mode: 0o600 });

  it('lists newest first, each from its signed manifest, and tells this appliance\'s signature from another\'s', async () => {
    put('backup-20261205T000000Z-00000001.srbk', backupBytes(ours, { trigger: 'schedule' }));
    put('backup-20261207T000000Z-00000002.srbk', backupBytes(theirs, { trigger: 'request' }));
    put('backup-20261206T000000Z-00000003.srbk', backupBytes(ours));
    const listing = await listBackupFiles(dir, pem(ours));
    expect(listing.backups.map((b) => b.name)).toEqual(['backup-20261207T000000Z-00000002.srbk', 'backup-20261206T000000Z-00000003.srbk', 'backup-20261205T000000Z-00000001.srbk']);
    expect(listing).toMatchObject({ total: 3, otherFiles: 0 });
    const [foreign, old, scheduled] = listing.backups;
    expect(foreign).toMatchObject({ madeAt: '2026-12-07T00:00:00.000Z', error: null, manifest: { trigger: 'request', signedHere: false, signerFingerprint: publicKeyFingerprint(pem(theirs)) } });
    expect(old.manifest).toMatchObject({ trigger: 'unknown', signedHere: true });
    expect(scheduled.manifest).toEqual({
      keychainId: 'kc-1',
      createdAt: '2026-12-07T08:15:00.000Z',
      trigger: 'schedule',
      auditHeadSeq: 41,
      trustCounter: 9,
      masterKeyVersions: [1, 2],
      unsealBinding: 'hsm',
      sealedInstances: 12,
      signerFingerprint: publicKeyFingerprint(pem(ours)),
      signedHere: true,
    });
    expect(scheduled.bytes).toBe(readFileSync(join(dir, scheduled.name)).length);
  });

  it('lists a damaged file with its code instead of hiding it: altered manifest, cut file, not a backup', async () => {
    const altered = backupBytes(ours);
    // One byte of the manifest (the JSON stays valid: "kc-1" becomes "kc-0"): the signature no longer checks.
    const at = altered.indexOf('kc-1') + 3;
    altered[at] = '0'.charCodeAt(0);
    put('backup-20261207T000000Z-0000000a.srbk', altered);
    const whole = backupBytes(ours);
    put('backup-20261207T000001Z-0000000b.srbk', whole.subarray(0, whole.length - 5));
    put('backup-20261207T000002Z-0000000c.srbk', Buffer.from('not a backup at all'));
    const byName = Object.fromEntries((await listBackupFiles(dir, pem(ours))).backups.map((b) => [b.name, b]));
    expect(byName['backup-20261207T000000Z-0000000a.srbk']).toMatchObject({ manifest: null, error: { code: 'BACKUP_TAMPERED' } });
    expect(byName['backup-20261207T000001Z-0000000b.srbk']).toMatchObject({ manifest: null, error: { code: 'BACKUP_TRUNCATED' } });
    expect(byName['backup-20261207T000002Z-0000000c.srbk']).toMatchObject({ manifest: null, error: { code: 'BACKUP_MALFORMED' } });
  });

  it('a signed manifest with fields of the wrong type is shown with those fields emptied, not passed on', async () => {
    put('backup-20261207T000000Z-0000000d.srbk', backupBytes(theirs, { masterKeyVersions: 'v1; rm -rf /', auditHead: { seq: 'x' }, trustCounter: -3, trigger: 'root' }));
    const [listed] = (await listBackupFiles(dir, pem(ours))).backups;
    expect(listed.manifest).toMatchObject({ masterKeyVersions: [], auditHeadSeq: 0, trustCounter: null, trigger: 'unknown', signedHere: false });
  });

  it('lists a FIFO under a backup\'s name as BACKUP_MALFORMED without blocking; skips links, folders and dot-files; counts other files', async () => {
    execFileSync('mkfifo', [join(dir, 'backup-20261207T000000Z-0000000e.srbk')]);
    put('backup-20261206T000000Z-0000000f.srbk', backupBytes(ours));
    symlinkSync(join(dir, 'backup-20261206T000000Z-0000000f.srbk'), join(dir, 'backup-20261208T000000Z-00000010.srbk'));
    mkdirSync(join(dir, 'backup-20261209T000000Z-00000011.srbk'));
    put('.backup-20261210T000000Z-00000012.srbk.1-noboot.partial', backupBytes(ours));
    put('keychain-copy.srbk', backupBytes(ours));
    put('notes.txt', Buffer.from('kept by the operator'));
    const listing = await listBackupFiles(dir, pem(ours));
    expect(listing.backups.map((b) => [b.name, b.error?.code ?? 'ok'])).toEqual([
      ['backup-20261207T000000Z-0000000e.srbk', 'BACKUP_MALFORMED'],
      ['backup-20261206T000000Z-0000000f.srbk', 'ok'],
    ]);
    expect(listing).toMatchObject({ total: 2, otherFiles: 2 });
  });

  it('orders two of the same second by modification time, newest first', async () => {
    put('backup-20261207T000000Z-000000aa.srbk', backupBytes(ours));
    put('backup-20261207T000000Z-000000bb.srbk', backupBytes(ours));
    utimesSync(join(dir, 'backup-20261207T000000Z-000000bb.srbk'), new Date('2026-12-07T00:00:00Z'), new Date('2026-12-07T00:00:00Z'));
    utimesSync(join(dir, 'backup-20261207T000000Z-000000aa.srbk'), new Date('2026-12-07T00:00:01Z'), new Date('2026-12-07T00:00:01Z'));
    expect((await listBackupFiles(dir, pem(ours))).backups.map((b) => b.name)).toEqual(['backup-20261207T000000Z-000000aa.srbk', 'backup-20261207T000000Z-000000bb.srbk']);
  });

  it('a folder not made yet is empty; any other failure to read it is an error', async () => {
    expect(backupDirNames(join(dir, 'not-yet'))).toEqual([]);
    expect(await listBackupFiles(join(dir, 'not-yet'), pem(ours))).toEqual({ backups: [], total: 0, otherFiles: 0 });
    put('a-file', Buffer.from('x'));
    expect(() => backupDirNames(join(dir, 'a-file'))).toThrow(/ENOTDIR/);
  });
});

describe('backup list of a full folder', () => {
  it('gives the event loop back between groups of files, and lists them all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-backup-list-many-'));
    try {
      const bytes = backupBytes(ours);
      for (let i = 0; i < 45; i++) writeFileSync(join(dir, `backup-20261207T0000${String(i).padStart(2, '0')}Z-${i.toString(16).padStart(8, '0')}.srbk`), bytes);
      let turns = 0;
      const listing = await listBackupFiles(dir, pem(ours), async () => {
        turns += 1;
      });
      expect(listing.backups).toHaveLength(45);
      expect(listing.backups.every((b) => b.manifest?.signedHere === true)).toBe(true);
      // After files 20 and 40.
      expect(turns).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
