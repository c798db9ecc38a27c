/**
 * A backup's manifest: what the backup holds (format and schema version,
 * counts of each kind of row, audit chain head and its newest signed
 * checkpoint, keychain id, master-key versions, trust counter, creation
 * time from the injected clock) and the size and SHA-256 of the snapshot it
 * describes, signed by the HSM signing key, the key that signs audit
 * checkpoints (domain/audit/audit-checkpoint.ts).
 *
 * The signature covers the manifest's exact bytes, so the snapshot's hash
 * and every count are under the HSM's word: a changed byte of the snapshot
 * fails its hash, a changed manifest fails the signature. The signed message
 * binds a domain label and the keychain id too, so neither an audit
 * checkpoint signature nor another keychain's manifest signature can stand
 * in for one.
 */
import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';
import { HsmPort } from '../../hsm/hsm-port';
import { SnapshotFacts } from '../../storage/backup/snapshot-facts';
import { encodeFields } from '../field-encoding';

/** The backup file format this code writes and reads. */
export const BACKUP_FORMAT_VERSION = 1;
const MANIFEST_LABEL = 'strongroom/backup-manifest/v1';

export interface BackupManifest extends SnapshotFacts {
  readonly format: 'strongroom-backup';
  readonly formatVersion: number;
  /** ISO 8601, from the appliance's clock. */
  readonly createdAt: string;
  /** The appliance version that made it. */
  readonly applianceVersion: string;
  /** The snapshot (an SQLite database file) that follows the header. */
  readonly database: { readonly bytes: number; readonly sha256: string };
  /** Who had it made: the server's schedule or an officer's request (BackupList shows it); absent in backups made before it was recorded. */
  readonly trigger?: 'schedule' | 'request';
  /** The signing key's SPKI PEM: what `verify` compares with the key it trusts. */
  readonly signer: string;
}

/** The exact bytes signed: label, keychain id and the manifest bytes' SHA-256, each length-prefixed. */
export function manifestMessage(keychainId: string, manifestBytes: Buffer): Buffer {
  return encodeFields([MANIFEST_LABEL, keychainId, createHash('sha256').update(manifestBytes).digest('hex')]);
}

/** The manifest's bytes and their HSM signature (raw ECDSA over the SHA-256 of the message, IEEE P1363). */
export async function signManifest(hsm: HsmPort, manifest: BackupManifest): Promise<{ manifestBytes: Buffer; signature: Buffer }> {
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  const digest = createHash('sha256').update(manifestMessage(manifest.keychainId, manifestBytes)).digest();
  return { manifestBytes, signature: await hsm.signDigest(digest) };
}

/**
 * True when `signature` over these manifest bytes was made by `publicKey`
 * (an SPKI PEM, or a key already parsed: BackupList checks many manifests
 * of one signer, and parsing the PEM costs twice the check) for this keychain.
 */
export function manifestSignatureValid(publicKey: string | KeyObject, keychainId: string, manifestBytes: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', manifestMessage(keychainId, manifestBytes), { key: typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** Two PEMs of the same public key, whatever their line breaks (compared as SPKI DER). */
export function samePublicKey(a: string, b: string): boolean {
  try {
    const der = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
    return der(a).equals(der(b));
  } catch {
    return false;
  }
}
