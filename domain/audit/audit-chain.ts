/**
 * The audit hash chain: event n's hash is SHA-256 over a domain label, event
 * n-1's hash, n, and event n's canonical JSON. An edited, deleted, inserted
 * or reordered event breaks the chain at that point, and verifyChain names
 * the first event where it breaks. The first event chains from 32 zero bytes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuditRecord, AuditStore } from '../../storage/audit-store';

const CHAIN_LABEL = Buffer.from('strongroom/audit-chain/v1');
export const GENESIS_HASH = Buffer.alloc(32);
/** Records read per page while verifying: bounds memory for any trail length. */
const VERIFY_PAGE = 1000;

export function chainHash(prevHash: Buffer, seq: number, event: string): Buffer {
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return createHash('sha256').update(CHAIN_LABEL).update(prevHash).update(seqBytes).update(event, 'utf8').digest();
}

/** The record that follows `head` (null: the trail is empty) for `event`. */
export function nextRecord(head: { seq: number; hash: Buffer } | null, event: string): AuditRecord {
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  return { seq, event, prevHash, hash: chainHash(prevHash, seq, event) };
}

export interface ChainVerdict {
  readonly ok: boolean;
  readonly events: number;
  /** The first event where the chain breaks (or the seq that is missing). */
  readonly firstBadSeq?: number;
  readonly reason?: string;
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Checks a sequence of records (as stored or as exported to a SIEM) from the first. */
export function verifyRecords(records: Iterable<AuditRecord>, start: { seq: number; hash: Buffer } = { seq: 0, hash: GENESIS_HASH }): ChainVerdict {
  let expectedSeq = start.seq + 1;
  let prev = start.hash;
  let count = 0;
  for (const record of records) {
    if (record.seq !== expectedSeq) return { ok: false, events: count, firstBadSeq: expectedSeq, reason: `event ${expectedSeq} is missing or out of order (found ${record.seq})` };
    if (!same(record.prevHash, prev)) return { ok: false, events: count, firstBadSeq: record.seq, reason: `event ${record.seq} does not follow event ${record.seq - 1} (deleted, inserted or reordered)` };
    if (!same(chainHash(prev, record.seq, record.event), record.hash)) return { ok: false, events: count, firstBadSeq: record.seq, reason: `event ${record.seq} was altered` };
    prev = record.hash;
    expectedSeq++;
    count++;
  }
  return { ok: true, events: count };
}

/** Verifies a whole stored trail, page by page. */
export function verifyStore(store: AuditStore): ChainVerdict {
  let from = 1;
  let start: { seq: number; hash: Buffer } = { seq: 0, hash: GENESIS_HASH };
  let total = 0;
  for (;;) {
    const page = store.readAuditRecords(from, VERIFY_PAGE);
    if (page.length === 0) return { ok: true, events: total };
    const verdict = verifyRecords(page, start);
    if (!verdict.ok) return { ...verdict, events: total + verdict.events };
    total += page.length;
    const last = page[page.length - 1];
    start = { seq: last.seq, hash: last.hash };
    from = last.seq + 1;
  }
}

/** What verifyExtension found: the verified head (null: empty trail), or where and why the chain fails. */
export interface ExtensionVerdict {
  readonly ok: boolean;
  readonly head: { seq: number; hash: Buffer } | null;
  readonly firstBadSeq?: number;
  readonly reason?: string;
}

/**
 * Verifies that the stored chain still holds `from` (a head signed earlier:
 * the record at from.seq has exactly that hash) and extends it, record by
 * record, up to `toSeq`, page by page (bounded memory for any distance).
 * `from` null: from genesis. `visit` sees every record after `from`.
 */
export function verifyExtension(store: AuditStore, from: { seq: number; hash: Buffer } | null, toSeq: number, visit: (record: AuditRecord) => void = () => undefined): ExtensionVerdict {
  if (from !== null) {
    if (toSeq < from.seq) return { ok: false, head: null, firstBadSeq: toSeq + 1, reason: `the trail ends at event ${toSeq}, before event ${from.seq}, which was signed: events were deleted or the file was rolled back` };
    const [signed] = store.readAuditRecords(from.seq, 1);
    if (signed === undefined || signed.seq !== from.seq || !same(signed.hash, from.hash)) {
      return { ok: false, head: null, firstBadSeq: from.seq, reason: `the chain at event ${from.seq} is not the one signed: events up to it were deleted, altered or re-hashed` };
    }
  }
  let start = from ?? { seq: 0, hash: GENESIS_HASH };
  while (start.seq < toSeq) {
    const page = store.readAuditRecords(start.seq + 1, Math.min(VERIFY_PAGE, toSeq - start.seq));
    if (page.length === 0) return { ok: false, head: null, firstBadSeq: start.seq + 1, reason: `event ${start.seq + 1} is missing: the trail ends before its head` };
    const verdict = verifyRecords(page, start);
    if (!verdict.ok) return { ok: false, head: null, firstBadSeq: verdict.firstBadSeq, reason: verdict.reason };
    for (const record of page) visit(record);
    const last = page[page.length - 1];
    start = { seq: last.seq, hash: last.hash };
  }
  return { ok: true, head: start.seq === 0 ? null : start };
}
