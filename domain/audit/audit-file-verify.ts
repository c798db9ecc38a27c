/**
 * `audit verify --from-file`: re-verifies the hash chain of exported or
 * SIEM-forwarded audit lines (protocol/audit-line.ts), streaming them
 * in batches so any file is checked in bounded memory. The chain starts at
 * the first line: from genesis when it is event 1, otherwise from that
 * line's own prevHash (which only the keychain can vouch for: pass
 * `against` to also compare every event with the stored one). A missing,
 * altered or reordered event is named with its seq and the line it was
 * found on; a line that is not an audit line is INVALID_ARGUMENT with its
 * number. A filtered export has gaps and so never verifies: the first gap
 * is reported as the missing event it is.
 */
import { ValidationError } from '../../common/errors';
import { AuditRecord, AuditStore } from '../../storage/audit-store';
import { GENESIS_HASH, verifyRecords } from './audit-chain';
import { MAX_AUDIT_LINE_BYTES, parseAuditLine } from '../../protocol/audit-line';
import { readLines } from './line-reader';

/** Lines verified (and compared with the keychain) at a time. */
const VERIFY_BATCH = 1000;

export interface FileVerdict {
  readonly ok: boolean;
  /** Events verified before the first problem (all of them when ok). */
  readonly events: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** `genesis`: the file starts at event 1; `file`: at a later event, trusting its prevHash (or the keychain, when compared). */
  readonly start: 'genesis' | 'file' | 'keychain' | null;
  readonly comparedWithKeychain: boolean;
  readonly firstBadSeq?: number;
  /** The line holding the first bad event (for a missing event: the line where the next one was found). */
  readonly line?: number;
  readonly reason?: string;
}

interface Batch {
  readonly records: AuditRecord[];
  readonly lines: number[];
}

function same(a: Buffer, b: Buffer): boolean {
  return a.equals(b);
}

/** Compares a verified batch with the keychain's events; the first difference, or null. */
function compareWithStore(store: AuditStore, batch: Batch): { seq: number; line: number; reason: string } | null {
  const stored = store.readAuditRecords(batch.records[0].seq, batch.records.length);
  for (let i = 0; i < batch.records.length; i++) {
    const record = batch.records[i];
    const mine = stored[i];
    if (mine === undefined || mine.seq !== record.seq) return { seq: record.seq, line: batch.lines[i], reason: `event ${record.seq} is not in the keychain's trail` };
    if (!same(mine.hash, record.hash) || mine.event !== record.event) return { seq: record.seq, line: batch.lines[i], reason: `event ${record.seq} differs from the keychain's event ${record.seq}` };
  }
  return null;
}

export async function verifyAuditFile(chunks: AsyncIterable<Buffer | string>, options: { against?: AuditStore } = {}): Promise<FileVerdict> {
  const against = options.against;
  let start: { seq: number; hash: Buffer } | null = null;
  let startKind: FileVerdict['start'] = null;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let verified = 0;
  let batch: Batch = { records: [], lines: [] };

  const check = (): FileVerdict | null => {
    if (batch.records.length === 0 || start === null) return null;
    const verdict = verifyRecords(batch.records, start);
    if (!verdict.ok) {
      return { ok: false, events: verified + verdict.events, firstSeq, lastSeq, start: startKind, comparedWithKeychain: against !== undefined, firstBadSeq: verdict.firstBadSeq, line: batch.lines[verdict.events], reason: verdict.reason };
    }
    if (against) {
      const difference = compareWithStore(against, batch);
      if (difference) {
        const events = verified + batch.records.findIndex((r) => r.seq === difference.seq);
        return { ok: false, events, firstSeq, lastSeq, start: startKind, comparedWithKeychain: true, firstBadSeq: difference.seq, line: difference.line, reason: difference.reason };
      }
    }
    verified += batch.records.length;
    const last = batch.records[batch.records.length - 1];
    start = { seq: last.seq, hash: last.hash };
    batch = { records: [], lines: [] };
    return null;
  };

  for await (const line of readLines(chunks, MAX_AUDIT_LINE_BYTES)) {
    if (line.text.trim() === '') continue;
    const record = parseAuditLine(line.text, line.number);
    if (start === null) {
      firstSeq = record.seq;
      if (record.seq === 1) {
        start = { seq: 0, hash: GENESIS_HASH };
        startKind = 'genesis';
      } else {
        // A range export: the keychain (when compared) vouches for the first prevHash; otherwise the file does.
        start = { seq: record.seq - 1, hash: record.prevHash };
        startKind = against ? 'keychain' : 'file';
      }
    }
    lastSeq = record.seq;
    batch.records.push(record);
    batch.lines.push(line.number);
    if (batch.records.length >= VERIFY_BATCH) {
      const bad = check();
      if (bad) return bad;
    }
  }
  const bad = check();
  if (bad) return bad;
  if (firstSeq === null) throw new ValidationError('the file holds no audit lines; expected one event per line as written by `strongroom audit export`');
  return { ok: true, events: verified, firstSeq, lastSeq, start: startKind, comparedWithKeychain: against !== undefined };
}
