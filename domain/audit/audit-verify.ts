/**
 * Verifies a stored audit trail end to end: the hash chain (every event,
 * page by page, bounded memory) and the signed checkpoints — each one's
 * signature under the trusted signing key, its hash against the chain's at
 * its seq (a rewritten chain differs), and the last one against the trail's
 * end (a trail that stops before a signed checkpoint was truncated).
 */
import { AuditCheckpointRecord, AuditStore } from '../../storage/audit-store';
import { GENESIS_HASH, verifyRecords } from './audit-chain';
import { checkpointSignatureValid } from './audit-checkpoint';

/** Records and checkpoints read per page: bounds memory for any trail length. */
const PAGE = 1000;

export interface TrailTrust {
  readonly keychainId: string;
  /** The signing public key to trust (from the HSM, or a copy the auditor kept); null: signatures are not checked. */
  readonly publicKeyPem: string | null;
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
  let pendingCheckpoints: AuditCheckpointRecord[] = store.readAuditCheckpoints(1, PAGE);
  let nextCheckpointFrom = 1;
  const fail = (firstBadSeq: number, reason: string): TrailVerdict => ({ ok: false, events, checkpoints, lastCheckpointSeq, unsignedTail: 0, signaturesChecked, firstBadSeq, reason });

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
  };
  const checkSignature = (checkpoint: AuditCheckpointRecord): string | null =>
    trust.publicKeyPem !== null && !checkpointSignatureValid(trust.publicKeyPem, trust.keychainId, checkpoint)
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
  const beyond = nextCheckpoint();
  if (beyond !== undefined) {
    const badSignature = checkSignature(beyond);
    if (badSignature !== null) return fail(beyond.seq, badSignature);
    return fail(start.seq + 1, `the trail ends at event ${start.seq} but a checkpoint signed at ${beyond.signedAt} covers event ${beyond.seq}: events ${start.seq + 1}..${beyond.seq} (at least) were deleted`);
  }
  return { ok: true, events, checkpoints, lastCheckpointSeq, unsignedTail: events - lastCheckpointSeq, signaturesChecked };
}
