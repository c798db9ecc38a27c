/**
 * The chaos test's audit-trail check after one kill, from where the
 * previous check stopped: the previous verified head is an anchor (the
 * record at its seq must still carry exactly its hash, and the chain must
 * extend it record by record to the new head), and only the checkpoints
 * after the last verified one are checked (signature under the HSM's key,
 * hash against the chain at their seq, none beyond the trail's end). Sound
 * because the trail and its checkpoints are append-only (triggers refuse
 * an UPDATE or DELETE; a checkpoint's seq only grows): what was verified
 * before cannot have changed unless the file was rewritten outside SQLite,
 * and the test's full verifyTrail (every few kills and at the end of each
 * lane, domain/audit/audit-verify.ts) would name that.
 *
 * The two whole-trail rules of verifyTrail are kept too: an
 * `audit-integrity-failure` event anywhere fails it, and a trail that
 * records a server start holds at least one signed checkpoint.
 */
import { verifyExtension } from '../../domain/audit/audit-chain';
import { checkpointSignatureValid } from '../../domain/audit/audit-checkpoint';
import { AUDIT_INTEGRITY_FAILURE, eventOfType } from '../../domain/audit/audit-event';
import { AuditRecord, AuditStore } from '../../storage/audit-store';

/** Checkpoints read per page. */
const CHECKPOINT_PAGE = 500;

/** Where the previous check stopped: what the next one starts from. */
export interface TrailMark {
  readonly head: { readonly seq: number; readonly hash: Buffer } | null;
  readonly lastCheckpointSeq: number;
  readonly checkpoints: number;
  /** The first `server-start` event's seq (0: none yet). */
  readonly firstServerStart: number;
}

export const EMPTY_TRAIL_MARK: TrailMark = { head: null, lastCheckpointSeq: 0, checkpoints: 0, firstServerStart: 0 };

export type TrailStep = { readonly ok: true; readonly mark: TrailMark; readonly newEvents: number } | { readonly ok: false; readonly firstBadSeq: number; readonly reason: string };

/**
 * Verifies what was appended to the trail since `mark`; `visit` sees each
 * new record, in order (the caller reads their meaning from them).
 */
export function verifyTrailSince(store: AuditStore, trust: { keychainId: string; publicKeyPem: string }, mark: TrailMark, visit: (record: AuditRecord) => void): TrailStep {
  const toSeq = store.auditHead()?.seq ?? 0;
  let firstServerStart = mark.firstServerStart;
  let alarm: { seq: number; reason: string } | null = null;
  let newEvents = 0;
  const extension = verifyExtension(store, mark.head, toSeq, (record) => {
    newEvents++;
    if (firstServerStart === 0 && eventOfType(record.event, 'server-start') !== null) firstServerStart = record.seq;
    const found = alarm === null ? eventOfType(record.event, AUDIT_INTEGRITY_FAILURE) : null;
    if (found !== null) alarm = { seq: record.seq, reason: `${found.custom.reason ?? ''} (from event ${found.custom.firstBadSeq ?? '?'})` };
    visit(record);
  });
  if (!extension.ok) return { ok: false, firstBadSeq: extension.firstBadSeq ?? 0, reason: `${extension.reason ?? 'the chain does not extend the head verified before'} (anchor: event ${mark.head?.seq ?? 0})` };
  if (alarm !== null) {
    const { seq, reason } = alarm;
    return { ok: false, firstBadSeq: seq, reason: `not intact: the appliance found this trail rewritten and refused to sign it, recorded at event ${seq}: ${reason}` };
  }

  let { lastCheckpointSeq, checkpoints } = mark;
  for (;;) {
    const page = store.readAuditCheckpoints(lastCheckpointSeq + 1, CHECKPOINT_PAGE);
    for (const checkpoint of page) {
      if (!checkpointSignatureValid(trust.publicKeyPem, trust.keychainId, checkpoint)) return { ok: false, firstBadSeq: checkpoint.seq, reason: `the checkpoint at event ${checkpoint.seq} has a bad signature` };
      if (checkpoint.seq > toSeq) return { ok: false, firstBadSeq: toSeq + 1, reason: `the trail ends at event ${toSeq} but a checkpoint covers event ${checkpoint.seq}: events were deleted` };
      const [record] = store.readAuditRecords(checkpoint.seq, 1);
      if (record?.seq !== checkpoint.seq || !record.hash.equals(checkpoint.hash)) return { ok: false, firstBadSeq: checkpoint.seq, reason: `the chain at event ${checkpoint.seq} is not the one signed at ${checkpoint.signedAt}` };
      lastCheckpointSeq = checkpoint.seq;
      checkpoints++;
    }
    if (page.length < CHECKPOINT_PAGE) break;
  }
  if (firstServerStart !== 0 && checkpoints === 0) return { ok: false, firstBadSeq: firstServerStart, reason: `a server ran on this trail (from event ${firstServerStart}) but it holds no signed checkpoint` };
  return { ok: true, mark: { head: extension.head, lastCheckpointSeq, checkpoints, firstServerStart }, newEvents };
}
