/**
 * Which checkpoint signatures a verification accepts: the trusted key's, and
 * another key's only where a signer handover vouches for it.
 *
 * A backup restored onto a second appliance (docs/backup.md §5, §6) carries
 * its trail with the checkpoints the first appliance's HSM signed; the
 * second appliance signs the checkpoints after it with its own key, and an
 * auditor there trusts only that one. The restore records the change of
 * signer in its `backup-restored` event (`custom.signerFingerprint`: the key
 * that signed the backup and the trail in it, which the approved request
 * named). That event is vouched for by the trusted key as soon as one of its
 * checkpoints covers it, and the hash chain under that checkpoint fixes every
 * event and checkpoint hash before it. So a checkpoint signed by another key
 * is accepted when
 *
 * - its signature verifies under the key it names (a forged one fails here
 *   at once, whoever is trusted);
 * - a `backup-restored` event naming that key's fingerprint comes after it;
 * - and a checkpoint of the trusted key covers that event.
 *
 * Someone who can write the database file gains nothing: an event naming
 * their own key must sit under a trusted checkpoint, which they cannot make,
 * and one appended after the last trusted checkpoint vouches for nothing.
 * Handovers chain (A's trail restored on B, B's on C): each is covered by a
 * checkpoint of the trusted key, the newest one covering all before it.
 *
 * In a cluster (cluster-signers.ts) the other nodes' keys are on the
 * keychain's authenticated signer list: a checkpoint signed by a listed key
 * is accepted at or after the `audit-signer-added` event naming it, with no
 * handover; before that event (or by a key not on the list) it needs one as
 * above, which a cluster node's checkpoint never has.
 */
import { AuditCheckpointRecord } from '../../storage/audit-store';
import { eventOfType } from './audit-event';
import { checkpointSignatureValid, publicKeyFingerprint } from './audit-checkpoint';
import { AUDIT_SIGNER_ADDED } from './cluster-signers';

/** The event type a restore records (domain/backup/backup-restorer.ts). */
const RESTORED = 'backup-restored';

export class SignerHandovers {
  /** Checkpoints signed by other keys: the first and the highest seq each key's signatures cover, by fingerprint. */
  private readonly foreign = new Map<string, { first: number; last: number }>();
  /** Restores that named a signer: the seqs of their events, by the signer's fingerprint. */
  private readonly named = new Map<string, number[]>();
  /** The highest seq a checkpoint of the trusted key covers (0: none yet). */
  private trustedCovers = 0;
  /** The cluster's listed signers by fingerprint (their rows authenticated by the caller). */
  private readonly listed: ReadonlySet<string>;
  /** Listed signers whose `audit-signer-added` event the trail has shown so far. */
  private readonly enrolled = new Set<string>();

  constructor(private readonly trustedPem: string, private readonly keychainId: string, clusterSigners: readonly string[] = []) {
    this.listed = new Set(clusterSigners.map(fingerprintOf).filter((f): f is string => f !== null));
  }

  /** True when `checkpoint` is accepted for now: the trusted key's, or another key's pending a handover (unvouched() decides at the end). */
  accepts(checkpoint: AuditCheckpointRecord): boolean {
    if (checkpointSignatureValid(this.trustedPem, this.keychainId, checkpoint)) {
      this.trustedCovers = Math.max(this.trustedCovers, checkpoint.seq);
      return true;
    }
    if (!checkpoint.publicKey || !checkpointSignatureValid(checkpoint.publicKey, this.keychainId, checkpoint)) return false;
    const fingerprint = fingerprintOf(checkpoint.publicKey);
    if (fingerprint === null) return false;
    // A cluster node's key, from its enrolment on (the event was read before any checkpoint at or after its seq).
    if (this.enrolled.has(fingerprint)) return true;
    const seen = this.foreign.get(fingerprint);
    if (seen === undefined) this.foreign.set(fingerprint, { first: checkpoint.seq, last: checkpoint.seq });
    else seen.last = Math.max(seen.last, checkpoint.seq);
    return true;
  }

  /** Reads one event of the trail, in order: a successful restore that named its signer is a handover. */
  notice(seq: number, canonical: string): void {
    const added = eventOfType(canonical, AUDIT_SIGNER_ADDED);
    const addedKey = added?.result === 'ok' ? added.custom.fingerprint : undefined;
    if (typeof addedKey === 'string' && this.listed.has(addedKey)) this.enrolled.add(addedKey);
    const restored = eventOfType(canonical, RESTORED);
    const fingerprint = restored?.result === 'ok' ? restored.custom.signerFingerprint : undefined;
    if (typeof fingerprint !== 'string' || fingerprint === '') return;
    const seqs = this.named.get(fingerprint) ?? [];
    seqs.push(seq);
    this.named.set(fingerprint, seqs);
  }

  /** After the whole trail: the first key whose checkpoints no covered handover vouches for, or null when every one is. */
  unvouched(): { readonly seq: number; readonly reason: string } | null {
    for (const [fingerprint, { first, last }] of this.foreign) {
      const vouched = (this.named.get(fingerprint) ?? []).some((seq) => seq > last && seq <= this.trustedCovers);
      if (!vouched) {
        if (this.listed.has(fingerprint)) {
          return { seq: first, reason: `the checkpoint at event ${first} is signed by the cluster signer ${fingerprint} before the trail records its addition (audit-signer-added): a signer vouches only for checkpoints made after it joined` };
        }
        const span = first === last ? `the checkpoint at event ${first} has` : `the checkpoints at events ${first} to ${last} have`;
        return {
          seq: first,
          reason: `${span} a bad signature for the trusted key: signed by another key (${fingerprint}), and no restore covered by a checkpoint of the trusted key hands the trail over from it: forged, or another appliance's trail`,
        };
      }
    }
    return null;
  }
}

function fingerprintOf(pem: string): string | null {
  try {
    return publicKeyFingerprint(pem);
  } catch {
    return null;
  }
}
