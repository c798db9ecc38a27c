/**
 * Signed audit checkpoints. The hash chain alone proves that the events
 * present were not edited, reordered or removed from the middle; it cannot
 * tell a trail whose newest events were cut off, or one rebuilt from scratch
 * with fresh hashes, from an honest one. So at intervals the chain head
 * (seq and hash) is signed by the HSM's EC P-256 signing key, which never
 * leaves the token: a trail that ends before its last checkpoint was
 * truncated, and a trail whose hash at a checkpoint's seq differs from the
 * signed one was rewritten. Events after the newest checkpoint are covered
 * by the chain only, until the next checkpoint.
 *
 * The signed message binds a domain label, the keychain id (a checkpoint of
 * one appliance cannot be replayed into another's trail), seq, hash and the
 * signing time. The HSM signs its SHA-256 digest (raw CKM_ECDSA: SoftHSM2 has
 * no CKM_ECDSA_SHA256), so Node verifies the message with 'sha256'.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { Clock, isoNow } from '../../common/clock';
import { HsmPort } from '../../hsm/hsm-port';
import { AuditCheckpointRecord, AuditHead } from '../../storage/audit-store';

const CHECKPOINT_LABEL = 'strongroom/audit-checkpoint/v1';

/** The exact bytes a checkpoint signs. */
export function checkpointMessage(keychainId: string, seq: number, hash: Buffer, signedAt: string): Buffer {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  const parts = [Buffer.from(CHECKPOINT_LABEL), Buffer.from(keychainId, 'utf8'), seqBytes, hash, Buffer.from(signedAt, 'utf8')];
  // Length-prefix each part so that no two different inputs give the same message.
  return Buffer.concat(parts.flatMap((part) => [u32(part.length), part]));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Signs the chain head with the HSM signing key. */
export async function signCheckpoint(hsm: HsmPort, keychainId: string, head: AuditHead, clock: Clock): Promise<AuditCheckpointRecord> {
  const signedAt = isoNow(clock);
  const digest = createHash('sha256').update(checkpointMessage(keychainId, head.seq, head.hash, signedAt)).digest();
  const signature = await hsm.signDigest(digest);
  return { seq: head.seq, hash: Buffer.from(head.hash), signedAt, signature, publicKey: await hsm.signingPublicKey() };
}

/** True when `checkpoint` was signed by the key `publicKeyPem` for this keychain. */
export function checkpointSignatureValid(publicKeyPem: string, keychainId: string, checkpoint: AuditCheckpointRecord): boolean {
  try {
    return verify('sha256', checkpointMessage(keychainId, checkpoint.seq, checkpoint.hash, checkpoint.signedAt), { key: createPublicKey(publicKeyPem), dsaEncoding: 'ieee-p1363' }, checkpoint.signature);
  } catch {
    return false;
  }
}

/** SHA-256 fingerprint of a public key (SPKI DER), colon-separated hex: what an auditor compares. */
export function publicKeyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}
