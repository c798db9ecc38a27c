/**
 * Backup files made by a test, not by the appliance, for the tests of what
 * the appliance does with a file it did not make: a snapshot of a real
 * keychain file (VACUUM INTO, as the snapshot worker takes it), altered at
 * will (SQL planted in it), described by a manifest read from that snapshot
 * and signed by a key the test holds. The appliance trusts such a key only
 * when it is named (`--signer-key`, `--public-key`), as it would another
 * appliance's: exactly what an officer can do with an upload.
 */
import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeBackupHeader } from '../../domain/backup/backup-file';
import { BACKUP_FORMAT_VERSION, BackupManifest, manifestMessage } from '../../domain/backup/backup-manifest';
import { readSnapshotFacts } from '../../storage/backup/snapshot-facts';
import { openUnsealedKeychain } from './unsealed-keychain';

export interface TestSigner {
  /** SPKI PEM: what a verification is told to trust. */
  readonly publicPem: string;
  readonly privateKey: KeyObject;
}

/** A new P-256 signing key, as an appliance's HSM signing key is. */
export function testSigner(): TestSigner {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey: pair.privateKey };
}

/** Copies the keychain at `keychainPath` into `outPath` (which must not exist), then runs `plant` (SQL) in the copy. */
export function snapshotCopy(keychainPath: string, outPath: string, plant = ''): void {
  const source = new Database(keychainPath, { readonly: true, fileMustExist: true });
  try {
    source.prepare('VACUUM INTO ?').run(outPath);
  } finally {
    source.close();
  }
  if (plant === '') return;
  // The test's own connection, with SQLite's default (trusted) schema: the planted SQL is written as an attacker would.
  const copy = new Database(outPath, { fileMustExist: true });
  try {
    copy.exec(plant);
  } finally {
    copy.close();
  }
}

/** A backup file of the snapshot at `snapshotPath`, its manifest read from the snapshot and signed by `signer`. */
export function signedBackup(snapshotPath: string, signer: TestSigner): Buffer {
  const snapshot = readFileSync(snapshotPath);
  const db = new Database(snapshotPath, { readonly: true, fileMustExist: true });
  let manifest: BackupManifest;
  try {
    manifest = {
      format: 'strongroom-backup',
      formatVersion: BACKUP_FORMAT_VERSION,
      createdAt: new Date(0).toISOString(),
      applianceVersion: 'test',
      ...readSnapshotFacts(db),
      database: { bytes: snapshot.length, sha256: createHash('sha256').update(snapshot).digest('hex') },
      trigger: 'request',
      signer: signer.publicPem,
    };
  } finally {
    db.close();
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  const signature = sign('sha256', manifestMessage(manifest.keychainId, manifestBytes), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
  return Buffer.concat([encodeBackupHeader(manifestBytes, signature), snapshot]);
}

/** A new folder holding a signed backup of a fresh keychain (real SoftHSM2 token), the backup's bytes and its signer's public key. */
export async function freshSignedBackup(label: string): Promise<{ dir: string; backup: Buffer; signerKey: string }> {
  const dir = mkdtempSync(join(tmpdir(), `strongroom-${label}-`));
  const k = await openUnsealedKeychain(label);
  try {
    snapshotCopy(k.dbPath, join(dir, 'snapshot.db'));
  } finally {
    await k.close();
  }
  const signer = testSigner();
  return { dir, backup: signedBackup(join(dir, 'snapshot.db'), signer), signerKey: signer.publicPem };
}
