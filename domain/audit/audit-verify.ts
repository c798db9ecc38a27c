/**
 * Verifies a stored audit trail end to end: the hash chain (every event,
 * page by page, bounded memory) and the signed checkpoints — each one's
 * signature under the trusted signing key, its hash against the chain's at
 * its seq (a rewritten chain differs), and the last one against the trail's
 * end (a trail that stops before a signed checkpoint was truncated).
 *
 * Two more rules make a rebuilt trail fail even with its checkpoints gone:
 * a trail that records a server start holds a checkpoint (every run signs
 * one at start, domain/audit/audit-checkpointer.ts), and a trail in which the
 * appliance recorded an `audit-integrity-failure` (its checkpointer found
 * the stored chain not extending the head it had signed) is not intact,
 * whatever its hashes say now. A trail rebuilt without its server starts
 * while no server ran since is caught only by kept anchors (`--expect`).
 *
 * A trail restored onto another appliance (docs/backup.md §5, §6) holds
 * checkpoints signed by the first appliance's key. They verify here only
 * through a signer handover (signer-handover.ts): the restore's own
 * `backup-restored` event names that key's fingerprint, and a checkpoint of
 * the trusted key covers that event.
 */
import { AuditCheckpointRecord, AuditStore } from '../../storage/audit-store';
import { GENESIS_HASH, verifyRecords } from './audit-chain';
import { AUDIT_INTEGRITY_FAILURE, eventOfType } from './audit-event';
import { SignerHandovers } from './signer-handover';

/** Records and checkpoints read per page: bounds memory for any trail length. */
const PAGE = 1000;

export interface TrailTrust {
  readonly keychainId: string;
  /** The signing public key to trust (from the HSM, or a copy the auditor kept); null: signatures are not checked. */
  readonly publicKeyPem: string | null;
  /**
   * Chain positions the auditor kept from an earlier verification (or a
   * SIEM): the trail must still hold exactly this hash at each seq. This is
   * what catches a trail cut back together with its newest checkpoints, or
   * a whole file rolled back to an older copy, which the stored checkpoints
   * alone cannot show.
   */
  readonly anchors?: ReadonlyArray<{ readonly seq: number; readonly hash: Buffer }>;
  /**
   * The cluster's audit signers (SPKI PEMs) from the keychain's authenticated
   * list (cluster-signers.ts): their checkpoints are accepted from their
   * `audit-signer-added` event on. Only a list whose rows were checked
   * belongs here.
   */
  readonly clusterSigners?: readonly string[];
}

export interface TrailVerdict {
  readonly ok: boolean;
  readonly events: number;
  readonly checkpoints: number;
  /** The newest checkpoint's seq (0: none). */
  readonly lastCheckpointSeq: number;
  /** Events after the newest checkpoint: covered by the chain only. */
  readonly unsignedTail: number;
  readonly signaturesChecked: boolean;
  /** The newest checkpoint (what an auditor keeps as an anchor for the next verification), or null. */
  readonly lastCheckpoint: { readonly seq: number; readonly hash: string; readonly signedAt: string } | null;
  /** Anchors given and found as kept. */
  readonly anchorsMatched: number;
  readonly firstBadSeq?: number;
  readonly reason?: string;
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.equals(b);
}

export function verifyTrail(store: AuditStore, trust: TrailTrust): TrailVerdict {
  const signaturesChecked = trust.publicKeyPem !== null;
  let start: { seq: number; hash: Buffer } = { seq: 0, hash: GENESIS_HASH };
  let events = 0;
  let checkpoints = 0;
  let lastCheckpointSeq = 0;
  let lastCheckpoint: TrailVerdict['lastCheckpoint'] = null;
  const anchors = [...(trust.anchors ?? [])].sort((a, b) => a.seq - b.seq);
  let anchorsMatched = 0;
  let firstServerStart = 0;
  let alarm: { seq: number; reason: string } | null = null;
  const handovers = trust.publicKeyPem === null ? null : new SignerHandovers(trust.publicKeyPem, trust.keychainId, trust.clusterSigners);
  let pendingCheckpoints: AuditCheckpointRecord[] = store.readAuditCheckpoints(1, PAGE);
  let nextCheckpointFrom = 1;
  const fail = (firstBadSeq: number, reason: string): TrailVerdict => ({ ok: false, events, checkpoints, lastCheckpointSeq, unsignedTail: 0, signaturesChecked, lastCheckpoint, anchorsMatched, firstBadSeq, reason });

  const nextCheckpoint = (): AuditCheckpointRecord | undefined => {
    if (pendingCheckpoints.length === 0) {
      pendingCheckpoints = store.readAuditCheckpoints(nextCheckpointFrom, PAGE);
    }
    return pendingCheckpoints[0];
  };
  const takeCheckpoint = (): void => {
    const taken = pendingCheckpoints.shift()!;
    nextCheckpointFrom = taken.seq + 1;
    checkpoints++;
    lastCheckpointSeq = taken.seq;
    lastCheckpoint = { seq: taken.seq, hash: taken.hash.toString('hex'), signedAt: taken.signedAt };
  };
  const checkSignature = (checkpoint: AuditCheckpointRecord): string | null =>
    handovers !== null && !handovers.accepts(checkpoint)
      ? `the checkpoint at event ${checkpoint.seq} (signed ${checkpoint.signedAt}) has a bad signature: forged, or signed by another key than the one trusted`
      : null;

  for (;;) {
    const page = store.readAuditRecords(start.seq + 1, PAGE);
    if (page.length === 0) break;
    const verdict = verifyRecords(page, start);
    if (!verdict.ok) {
      events += verdict.events;
      return fail(verdict.firstBadSeq!, verdict.reason!);
    }
    for (const record of page) {
      events++;
      if (firstServerStart === 0 && eventOfType(record.event, 'server-start') !== null) firstServerStart = record.seq;
      handovers?.notice(record.seq, record.event);
      if (alarm === null) {
        const found = eventOfType(record.event, AUDIT_INTEGRITY_FAILURE);
        if (found !== null) alarm = { seq: record.seq, reason: `${found.custom.reason ?? ''} (from event ${found.custom.firstBadSeq ?? '?'})` };
      }
      while (anchors.length > 0 && anchors[0].seq === record.seq) {
        const anchor = anchors.shift()!;
        if (!same(anchor.hash, record.hash)) return fail(record.seq, `event ${record.seq} is not the one you kept (anchor ${record.seq}:${anchor.hash.toString('hex').slice(0, 16)}…): the trail up to it was rewritten or replaced by another copy`);
        anchorsMatched++;
      }
      for (let checkpoint = nextCheckpoint(); checkpoint !== undefined && checkpoint.seq <= record.seq; checkpoint = nextCheckpoint()) {
        const badSignature = checkSignature(checkpoint);
        if (badSignature !== null) return fail(checkpoint.seq, badSignature);
        if (checkpoint.seq === record.seq && !same(checkpoint.hash, record.hash)) {
          return fail(checkpoint.seq, `the chain at event ${checkpoint.seq} is not the one signed at ${checkpoint.signedAt}: events up to it were rewritten`);
        }
        takeCheckpoint();
      }
    }
    const last = page[page.length - 1];
    start = { seq: last.seq, hash: last.hash };
  }
  if (anchors.length > 0) {
    const missing = anchors[0];
    return fail(start.seq + 1, `the trail ends at event ${start.seq} but you kept event ${missing.seq} (anchor): events ${start.seq + 1}..${missing.seq} (at least) were deleted, or the file was rolled back to an older copy`);
  }
  const beyond = nextCheckpoint();
  if (beyond !== undefined) {
    const badSignature = checkSignature(beyond);
    if (badSignature !== null) return fail(beyond.seq, badSignature);
    return fail(start.seq + 1, `the trail ends at event ${start.seq} but a checkpoint signed at ${beyond.signedAt} covers event ${beyond.seq}: events ${start.seq + 1}..${beyond.seq} (at least) were deleted`);
  }
  const unvouched = handovers?.unvouched();
  if (unvouched) return fail(unvouched.seq, unvouched.reason);
  if (alarm !== null) return fail(alarm.seq, `not intact: the appliance found this trail rewritten and refused to sign it, recorded at event ${alarm.seq}: ${alarm.reason}`);
  if (firstServerStart !== 0 && checkpoints === 0) {
    return fail(firstServerStart, `not intact: a server ran on this trail (it starts at event ${firstServerStart}) but it holds no signed checkpoint, although every run signs one: the checkpoints were deleted and the trail may have been rebuilt`);
  }
  return { ok: true, events, checkpoints, lastCheckpointSeq, unsignedTail: events - lastCheckpointSeq, signaturesChecked, lastCheckpoint, anchorsMatched };
}
