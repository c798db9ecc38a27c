/**
 * Searching the audit trail: pages through the store (readAuditRecords)
 * from a sequence number, keeps the records whose event matches the
 * filter, and stops at whichever comes first: `limit` matches, a response
 * byte budget, a scan budget, or the end of the trail. The returned
 * `nextSeq` is the cursor to continue from, so any trail is searched in
 * bounded memory and bounded time per call.
 *
 * Filtering happens here, over pages, rather than in SQL: the audit table
 * is append-only, canonical JSON and unindexed beyond seq, so a SQL filter
 * (json_extract) would scan the same rows; this way both stores keep the one
 * simple read method their conformance suite already holds them to.
 */
import { DEFAULT_AUDIT_SEARCH_LIMIT, MAX_AUDIT_SEARCH_LIMIT } from '../../protocol/op-schemas';
import { AuditRecord, AuditStore } from '../../storage/audit-store';
import { AuditEvent } from './audit-event';
import { AuditFilter, matchesAuditFilter, mayMatchTime } from './audit-filter';

/** Most events one search returns (one wire response, one CLI page): the AuditSearch limit the wire declares. */
export const MAX_SEARCH_LIMIT = MAX_AUDIT_SEARCH_LIMIT;
export const DEFAULT_SEARCH_LIMIT = DEFAULT_AUDIT_SEARCH_LIMIT;
/** Most records one search reads: bounds how long one request holds the server, whatever the filter. */
export const MAX_SEARCH_SCAN = 50_000;
/** Most event text one search returns (in characters; events are mostly ASCII): keeps a response well inside the client's frame limit. */
export const MAX_SEARCH_BYTES = 512 * 1024;
/** Records read from the store at a time. */
const SEARCH_PAGE = 1000;

export interface AuditSearchOptions {
  /** First seq to look at (default 1). */
  readonly fromSeq?: number;
  readonly limit?: number;
  /** Override of MAX_SEARCH_SCAN (tests, and local exports that may read further per call). */
  readonly scanLimit?: number;
}

export interface AuditSearchResult {
  readonly records: AuditRecord[];
  /** Where to continue (the seq after the last one read), or null when the trail's end was reached. */
  readonly nextSeq: number | null;
  /** Records read to find these. */
  readonly scanned: number;
}

export function searchAudit(store: AuditStore, filter: AuditFilter, options: AuditSearchOptions = {}): AuditSearchResult {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_SEARCH_LIMIT), MAX_SEARCH_LIMIT);
  const scanLimit = Math.max(1, options.scanLimit ?? MAX_SEARCH_SCAN);
  const records: AuditRecord[] = [];
  let next = Math.max(1, options.fromSeq ?? 1);
  let scanned = 0;
  let bytes = 0;
  while (scanned < scanLimit) {
    const page = store.readAuditRecords(next, Math.min(SEARCH_PAGE, scanLimit - scanned));
    if (page.length === 0) return { records, nextSeq: null, scanned };
    for (const record of page) {
      scanned++;
      next = record.seq + 1;
      // Parsing is most of a scan's cost: events outside the time range are skipped before it.
      if (mayMatchTime(filter, record.event) && matchesAuditFilter(filter, JSON.parse(record.event) as AuditEvent)) {
        records.push(record);
        bytes += record.event.length;
        if (records.length >= limit || bytes >= MAX_SEARCH_BYTES) return { records, nextSeq: next, scanned };
      }
    }
  }
  return { records, nextSeq: next, scanned };
}
