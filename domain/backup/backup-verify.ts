/**
 * `strongroom backup verify FILE`: what a backup is, checked before anyone
 * relies on it. In order, each failure with its own code:
 *
 * 1. the header parses, and the file is exactly as long as declared
 *    (BACKUP_MALFORMED, BACKUP_TRUNCATED, BACKUP_TAMPERED);
 * 2. the manifest's signature verifies under the key the manifest names
 *    (BACKUP_TAMPERED), and that key is the one trusted here: the HSM's
 *    signing key, or a copy kept apart (BACKUP_FOREIGN_SIGNER);
 * 3. the snapshot's SHA-256 is the signed one (BACKUP_TAMPERED), and the
 *    counts, keychain, audit head and checkpoint read from it are the
 *    manifest's (BACKUP_TAMPERED);
 * 4. its audit trail chains and its checkpoints carry the trusted key's
 *    signatures (INTEGRITY_FAILURE: the trail was already broken when the
 *    backup was made);
 * 5. with an HSM that holds the master key (the appliance can unseal): the
 *    snapshot's rows match its own trust state (the set-hash check unseal
 *    runs), and every instance's sealed material opens under the backup's
 *    own keychain keys (INTEGRITY_FAILURE names the first that does not). A
 *    share-bound keychain needs the custodians too: this step is then
 *    reported skipped, unless `keychainKeys` lends the keys they unsealed
 *    (the running appliance's restore: share-bound-keys.ts).
 *
 * The snapshot is extracted into `workDir` (the appliance's backup_dir,
 * 0700; the command line's own private folder) under a name that carries
 * this process (backup-writer-files.ts workFileName), and removed after: a
 * verification killed mid-way leaves it where the killed-writer clean-up
 * removes it, never in the system temp folder.
 * The opened material is zeroed at once; nothing of it is kept or shown.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { asStrongroomError, StrongroomError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { BackupSnapshotReader, openBackupSnapshot } from '../../storage/backup/backup-snapshot-reader';
import { SnapshotFacts } from '../../storage/backup/snapshot-facts';
import { publicKeyFingerprint } from '../audit/audit-checkpoint';
import { openMaterial } from '../instance-seal';
import { TrustKeys } from '../trust/trust-keys';
import { TrustLedger } from '../trust/trust-ledger';
import { systemClock } from '../../common/clock';
import { chainStatus } from '../report/compile-report';
import { backupError, parseBackupHeader, ParsedBackup } from './backup-file';
import { BackupManifest, manifestSignatureValid, samePublicKey } from './backup-manifest';
import { hsmKeychainKeys, KeychainKeySource } from './share-bound-keys';
import { workFileName } from './backup-writer-files';
import { withKeychainKeys } from './with-keychain-keys';

const COPY_CHUNK_BYTES = 1024 * 1024;

export interface BackupVerifyOptions {
  /** The signing key trusted here (SPKI PEM): the HSM's, or a copy kept apart. */
  readonly trustedSigner: string;
  /** Where the trusted key came from, for the verdict ('hsm', 'file'). */
  readonly signerSource: string;
  /** Where the snapshot is extracted: backup_dir on the appliance (created 0700 if absent), a private folder of the command line's. */
  readonly workDir: string;
  /** An HSM holding the master key: every instance is opened. Absent: that step is skipped. */
  readonly hsm?: HsmPort;
  /** Where the backup's keychain keys come from (with `hsm`); without it a share-bound backup's instances are reported not opened. */
  readonly keychainKeys?: KeychainKeySource;
  /** Told after each step, and every 1000 instances opened. */
  readonly onProgress?: (step: string, done: number, total: number) => void;
}

export interface BackupVerdict {
  readonly ok: true;
  readonly bytes: number;
  readonly manifest: BackupManifest;
  readonly signer: { readonly fingerprint: string; readonly source: string };
  readonly chain: { readonly events: number; readonly checkpoints: number; readonly lastCheckpointSeq: number | null; readonly unsignedTail: number };
  readonly instances: { readonly checked: true; readonly opened: number } | { readonly checked: false; readonly reason: string };
  /** The snapshot's rows against its trust state (checked with the instances, under the same keys). */
  readonly trust: { readonly checked: true; readonly counter: number; readonly rows: number } | { readonly checked: false; readonly reason: string };
}

export async function verifyBackup(path: string, options: BackupVerifyOptions): Promise<BackupVerdict> {
  const fd = openSync(path, 'r');
  try {
    return await verifyOpenBackup(fd, options);
  } finally {
    closeSync(fd);
  }
}

/**
 * Verifies the backup open on `fd` (read at explicit offsets; the caller
 * closes it): what is checked is the file the caller holds, never whatever
 * a name points to by then (an upload verifies the file it wrote:
 * backup-upload.ts).
 */
export async function verifyOpenBackup(fd: number, options: BackupVerifyOptions): Promise<BackupVerdict> {
  const progress = options.onProgress ?? (() => undefined);
  const snapshotPath = join(options.workDir, workFileName('verify'));
  try {
    mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
    const bytes = fstatSync(fd).size;
    const parsed = parseBackupHeader(bytes, (offset, length) => {
      const out = Buffer.alloc(length);
      return out.subarray(0, readSync(fd, out, 0, length, offset));
    });
    const { manifest } = parsed;
    checkSignature(parsed, options.trustedSigner, options.signerSource);
    progress('signature', 1, 1);
    extractSnapshot(fd, parsed, snapshotPath);
    progress('snapshot', 1, 1);
    const reader = openSnapshot(snapshotPath);
    try {
      compareFacts(manifest, reader.facts());
      const chain = chainStatus(reader.store.audit, { keychainId: manifest.keychainId, publicKeyPem: options.trustedSigner, source: options.signerSource });
      if (!chain.ok) {
        throw new StrongroomError('INTEGRITY_FAILURE', `the audit trail inside the backup is not intact at event ${chain.firstBadSeq}: ${chain.reason}`, { details: { firstBadSeq: chain.firstBadSeq ?? 0 } });
      }
      progress('audit-chain', chain.events, chain.events);
      const skipped = { checked: false, reason: 'no HSM given: instances not opened, trust state not checked' } as const;
      const { instances, trust } = options.hsm === undefined ? { instances: skipped, trust: skipped } : await openWithKeychainKeys(reader, manifest, options.hsm, options.keychainKeys, progress);
      return {
        ok: true,
        bytes,
        manifest,
        signer: { fingerprint: publicKeyFingerprint(options.trustedSigner), source: options.signerSource },
        chain: { events: chain.events, checkpoints: chain.checkpoints, lastCheckpointSeq: chain.lastCheckpointSeq, unsignedTail: chain.unsignedTail },
        instances,
        trust,
      };
    } finally {
      reader.close();
    }
  } finally {
    // With SQLite's files beside it, should the read-only open have left any.
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${snapshotPath}${suffix}`, { force: true });
  }
}

/** Who the trusted key is, in the words of the command that gave it (a foreign-signer refusal names it). */
const TRUSTED_KEY_WORDS: Record<string, string> = {
  hsm: "this appliance's signing key (its HSM's)",
  file: 'the signing key given with --public-key',
  request: 'the signing key given with --signer-key',
};

function checkSignature(parsed: ParsedBackup, trustedSigner: string, signerSource: string): void {
  const { manifest, manifestBytes, signature } = parsed;
  if (!manifestSignatureValid(manifest.signer, manifest.keychainId, manifestBytes, signature)) {
    throw backupError('BACKUP_TAMPERED', 'the backup manifest does not verify under the key it names: the manifest or its signature was altered');
  }
  if (!samePublicKey(manifest.signer, trustedSigner)) {
    throw backupError('BACKUP_FOREIGN_SIGNER', `the backup was signed by key ${fingerprintOrWhat(manifest.signer)}, not by ${TRUSTED_KEY_WORDS[signerSource] ?? 'the trusted signing key'} ${publicKeyFingerprint(trustedSigner)}: it comes from another appliance, or is a forgery. If another appliance made it, trust that appliance's key, kept from its \`strongroom audit public-key\` (backup verify --public-key FILE; backup restore --signer-key FILE), after checking its fingerprint with that appliance's officers`, {
      keychainId: manifest.keychainId,
    });
  }
}

function fingerprintOrWhat(pem: string): string {
  try {
    return publicKeyFingerprint(pem);
  } catch {
    return '(not a public key)';
  }
}

/** Copies the snapshot out of the backup, hashing it: BACKUP_TAMPERED unless its hash is the signed one. */
export function extractSnapshot(fd: number, parsed: ParsedBackup, snapshotPath: string): void {
  const hash = createHash('sha256');
  const out = openSync(snapshotPath, 'wx', 0o600);
  const chunk = Buffer.alloc(COPY_CHUNK_BYTES);
  try {
    let offset = parsed.snapshotOffset;
    for (let left = parsed.manifest.database.bytes; left > 0; ) {
      const read = readSync(fd, chunk, 0, Math.min(chunk.length, left), offset);
      if (read === 0) throw backupError('BACKUP_TRUNCATED', 'the backup file ended while its snapshot was read');
      hash.update(chunk.subarray(0, read));
      writeSync(out, chunk, 0, read);
      offset += read;
      left -= read;
    }
  } finally {
    closeSync(out);
  }
  if (hash.digest('hex') !== parsed.manifest.database.sha256) {
    throw backupError('BACKUP_TAMPERED', "the backup's snapshot does not match the hash its signed manifest declares: it was altered");
  }
}

function openSnapshot(path: string): BackupSnapshotReader {
  try {
    return openBackupSnapshot(path);
  } catch (err) {
    // Its hash was the signed one: a snapshot that does not open as a keychain was signed that way (or is of another schema).
    const error = asStrongroomError(err);
    if (error.code === 'STORAGE_SCHEMA_TOO_NEW') throw error;
    throw backupError('BACKUP_MALFORMED', `the backup's snapshot does not open as a keychain database (${error.code})`);
  }
}

const COMPARED: ReadonlyArray<keyof SnapshotFacts> = ['schemaVersion', 'keychainId', 'keychainKeyVersion', 'masterKeyVersions', 'unsealBinding', 'counts', 'auditHead', 'lastCheckpoint', 'trustCounter'];

function compareFacts(manifest: BackupManifest, facts: SnapshotFacts): void {
  for (const field of COMPARED) {
    if (JSON.stringify(manifest[field]) !== JSON.stringify(facts[field])) {
      throw backupError('BACKUP_TAMPERED', `the backup's snapshot holds another ${field} than its signed manifest declares`, { field });
    }
  }
}

async function openWithKeychainKeys(
  reader: BackupSnapshotReader,
  manifest: BackupManifest,
  hsm: HsmPort,
  keychainKeys: KeychainKeySource | undefined,
  progress: (step: string, done: number, total: number) => void,
): Promise<Pick<BackupVerdict, 'instances' | 'trust'>> {
  if (reader.store.getUnsealPolicy() !== null && keychainKeys === undefined) {
    const skipped = { checked: false, reason: 'the keychain is bound to custodian shares: it opens only with the shares (restore, then unseal)' } as const;
    return { instances: skipped, trust: skipped };
  }
  return withKeychainKeys(keychainKeys ?? hsmKeychainKeys, reader.store, hsm, ({ unsealed, trust: trustKeys }) => {
    const trust = checkTrust(reader, manifest, trustKeys);
    progress('trust', trust.rows, trust.rows);
    const total = manifest.counts.sealedInstances;
    let opened = 0;
    for (const row of reader.sealedInstances()) {
      const key = unsealed.keys.get(row.sealVersion);
      if (key === undefined) throw new StrongroomError('INTEGRITY_FAILURE', `instance ${row.instanceName} is sealed by keychain key v${row.sealVersion}, which the backup does not hold`);
      const binding = { keychainId: manifest.keychainId, keyId: row.keyId, instanceId: row.instanceId, version: row.version, algorithm: row.algorithm, sealVersion: row.sealVersion };
      wipe(openMaterial(key, binding, row.sealed));
      if (++opened % 1000 === 0) progress('instances', opened, total);
    }
    progress('instances', opened, total);
    return { instances: { checked: true, opened }, trust: { checked: true, ...trust } };
  });
}

/** The set-hash check of the snapshot's rows (domain/trust/trust-ledger.ts), read only. */
function checkTrust(reader: BackupSnapshotReader, manifest: BackupManifest, keys: TrustKeys): { counter: number; rows: number } {
  const checked = new TrustLedger(reader.trust, () => keys, systemClock).check();
  if (checked.counter !== manifest.trustCounter) throw backupError('BACKUP_TAMPERED', "the backup's trust counter is not the one its signed manifest declares");
  return checked;
}
