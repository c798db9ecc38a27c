/**
 * `backup upload` over the wire on a real appliance (SoftHSM2 token, SQLite
 * keychain, mTLS): an officer sends a backup file they hold into
 * backup_dir in chunks (BackupUpload), and `backup restore` then names it.
 * At the end the file must hash to the SHA-256 sent and verify as a backup
 * signed by the trusted key: a tampered, foreign-signed or non-backup file
 * is refused with verify's code and leaves nothing in backup_dir. An upload
 * dropped mid-way is abandoned once idle (the appliance's clock is manual
 * here) and its partial file removed; names that are not plain file names
 * are refused before anything is written.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../../common/clock';
import { encodeBackupHeader } from '../../../domain/backup/backup-file';
import { manifestMessage } from '../../../domain/backup/backup-manifest';
import { UPLOAD_IDLE_MS } from '../../../domain/backup/backup-upload';
import { DecodedResponse } from '../../../protocol/response';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { auditEventTexts } from '../../support/key-import-support';

/** Small chunks, so that even a small backup takes several (the CLI sends 512 KiB). */
const CHUNK = 64 * 1024;

describe('backup upload', () => {
  let t: TestAppliance;
  let original: Buffer;
  const clock = new ManualClock(Date.now());
  const backups = (): string => join(t.dataDir, 'backups');
  const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' }, { clock });
    const conn = await t.connect(t.officer);
    for (let i = 0; i < 20; i++) expect((await conn.request('Create', { name: `up/key-${i}`, algorithm: 'AES-256' })).error).toBeUndefined();
    const made = await conn.request('BackupCreate', {});
    expect(made.error).toBeUndefined();
    original = readFileSync(join(backups(), (made.result as { name: string }).name));
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** Sends `bytes` as `name` in CHUNK pieces on one connection; the last answer (or the first refusal). */
  async function upload(conn: RawConnection, name: string, bytes: Buffer, extra: Record<string, unknown> = {}): Promise<DecodedResponse> {
    let answer: DecodedResponse | undefined;
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      const data = bytes.subarray(offset, offset + CHUNK);
      const last = offset + data.length === bytes.length;
      answer = await conn.request('BackupUpload', { name, offset, totalBytes: bytes.length, data: data.toString('base64'), ...(last ? { sha256: sha256(bytes), ...extra } : {}) });
      if (answer.error) return answer;
    }
    return answer as DecodedResponse;
  }

  /** What backup_dir holds besides the appliance's own backups: uploaded files and any dot-file. */
  const notOwn = (): string[] => readdirSync(backups()).filter((f) => !/^backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.srbk$/.test(f)).sort();

  it('takes a backup in chunks, verifies it, puts it in place, audits it; a restore request then names it', async () => {
    expect(original.length).toBeGreaterThan(2 * CHUNK);
    const conn = await t.connect(t.officer);
    const answer = await upload(conn, 'offsite-2026-12-07.srbk', original);
    expect(answer.error).toBeUndefined();
    expect(answer.result).toMatchObject({ name: 'offsite-2026-12-07.srbk', done: true, received: original.length, sha256: sha256(original) });
    expect(readFileSync(join(backups(), 'offsite-2026-12-07.srbk')).equals(original)).toBe(true);
    expect(notOwn()).toEqual(['offsite-2026-12-07.srbk']);
    const event = auditEventTexts(t).map((text) => JSON.parse(text) as { type: string; result: string; custom: Record<string, string> }).find((e) => e.type === 'backup-uploaded' && e.result === 'ok');
    expect(event?.custom).toMatchObject({ name: 'offsite-2026-12-07.srbk', bytes: String(original.length), sha256: sha256(original) });

    // Restore stays dual-controlled: one officer's request is stored, verified in full, and waits.
    const requested = await conn.request('BackupRestore', { name: 'offsite-2026-12-07.srbk' });
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    expect((await conn.request('ApprovalCancel', { id: (requested.error!.details as { requestId: string }).requestId })).error).toBeUndefined();
    // Never over an existing file, nor through a symbolic link planted under the name.
    expect((await upload(conn, 'offsite-2026-12-07.srbk', original)).error?.code).toBe('WRONG_STATE');
    const outside = join(t.dataDir, 'outside.txt');
    writeFileSync(outside, 'not to be overwritten');
    symlinkSync(outside, join(backups(), 'planted-link.srbk'));
    expect((await upload(conn, 'planted-link.srbk', original)).error?.code).toBe('WRONG_STATE');
    expect(readFileSync(outside, 'utf8')).toBe('not to be overwritten');
    unlinkSync(join(backups(), 'planted-link.srbk'));
  });

  it('refuses at the end a tampered, a foreign-signed and a non-backup file with verify\'s code, and keeps nothing', async () => {
    const conn = await t.connect(t.officer);
    const before = notOwn();
    const tampered = Buffer.from(original);
    tampered[tampered.length - 100] ^= 0x01;
    expect((await upload(conn, 'tampered.srbk', tampered)).error?.code).toBe('BACKUP_TAMPERED');

    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const manifestLength = original.readUInt32BE(10);
    const signatureLength = original.readUInt16BE(14);
    const manifest = JSON.parse(original.subarray(16, 16 + manifestLength).toString('utf8'));
    const forgedManifest = Buffer.from(JSON.stringify({ ...manifest, signer: otherPem }), 'utf8');
    const signature = sign('sha256', manifestMessage(manifest.keychainId, forgedManifest), { key: other.privateKey, dsaEncoding: 'ieee-p1363' });
    const foreign = Buffer.concat([encodeBackupHeader(forgedManifest, signature), original.subarray(16 + manifestLength + signatureLength)]);
    expect((await upload(conn, 'foreign.srbk', foreign)).error?.code).toBe('BACKUP_FOREIGN_SIGNER');

    expect((await upload(conn, 'not-a-backup.srbk', readFileSync(join(t.dataDir, 'keychain.db')).subarray(0, 3 * CHUNK))).error?.code).toBe('BACKUP_MALFORMED');
    // The bytes received are not what the officer says they sent.
    const wrongHash = await conn.request('BackupUpload', { name: 'cut.srbk', offset: 0, totalBytes: 10, data: Buffer.alloc(10).toString('base64'), sha256: '0'.repeat(64) });
    expect(wrongHash.error?.code).toBe('BACKUP_TAMPERED');
    expect(notOwn()).toEqual(before);
  });

  it('abandons an upload dropped mid-way once idle, and leaves nothing of it', async () => {
    const before = notOwn();
    const dropped = await t.connect(t.officer);
    const first = await dropped.request('BackupUpload', { name: 'dropped.srbk', offset: 0, totalBytes: original.length, data: original.subarray(0, CHUNK).toString('base64') });
    expect(first.result).toMatchObject({ done: false, received: CHUNK });
    expect(notOwn().filter((f) => f.startsWith('.dropped.srbk.'))).toHaveLength(1);
    dropped.destroy();

    clock.advance(UPLOAD_IDLE_MS);
    // The next chunk of any upload sweeps the idle ones.
    const conn = await t.connect(t.officer);
    expect((await upload(conn, 'after-drop.srbk', original)).error).toBeUndefined();
    expect(notOwn()).toEqual([...before, 'after-drop.srbk'].sort());
    const resumed = await conn.request('BackupUpload', { name: 'dropped.srbk', offset: CHUNK, totalBytes: original.length, data: original.subarray(CHUNK, 2 * CHUNK).toString('base64') });
    expect(resumed.error?.code).toBe('WRONG_STATE');
    expect(auditEventTexts(t).some((text) => text.includes('"backup-uploaded"') && text.includes('"TIMEOUT"') && text.includes('dropped.srbk'))).toBe(true);
  });

  it.each([
    ['a/b.srbk', 'INVALID_ARGUMENT'],
    ['../keychain.srbk', 'INVALID_ARGUMENT'],
    ['..srbk', 'INVALID_ARGUMENT'],
    ['x..y.srbk', 'INVALID_ARGUMENT'],
    ['.hidden.srbk', 'INVALID_ARGUMENT'],
    ['no-suffix', 'INVALID_ARGUMENT'],
    ['keychain.db', 'INVALID_ARGUMENT'],
    // The appliance's own form, dated in the future: it would pass for the newest backup, and retention would delete the real ones.
    ['backup-20991231T235959Z-ffffffff.srbk', 'INVALID_ARGUMENT'],
    // Longer than the schema's 64 characters: refused by the wire's schema.
    [`${'a'.repeat(60)}.srbk`, 'INVALID_REQUEST'],
  ])('refuses %j as a name before anything is written (%s)', async (name, code) => {
    const before = notOwn();
    const conn = await t.connect(t.officer);
    const answer = await conn.request('BackupUpload', { name, offset: 0, totalBytes: 3, data: 'AAEC', sha256: sha256(Buffer.from([0, 1, 2])) });
    expect(answer.error?.code).toBe(code);
    expect(notOwn()).toEqual(before);
  });

  it('refuses an app, a total above the cap, and chunks out of order', async () => {
    const app = await t.connect(t.issue('upload-app', 'app'));
    expect((await app.request('BackupUpload', { name: 'x.srbk', offset: 0, totalBytes: 3, data: 'AAEC' })).error?.code).toBe('PERMISSION_DENIED');
    const conn = await t.connect(t.officer);
    expect((await conn.request('BackupUpload', { name: 'huge.srbk', offset: 0, totalBytes: 3 * 1024 ** 3, data: 'AAEC' })).error?.code).toBe('INVALID_REQUEST');
    expect((await conn.request('BackupUpload', { name: 'order.srbk', offset: 0, totalBytes: 9, data: 'AAEC' })).result).toMatchObject({ received: 3 });
    const skipped = await conn.request('BackupUpload', { name: 'order.srbk', offset: 6, totalBytes: 9, data: 'AAEC' });
    expect(skipped.error).toMatchObject({ code: 'WRONG_STATE', details: { expected: 3 } });
  });
});
