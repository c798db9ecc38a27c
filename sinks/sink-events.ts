/**
 * The audit events a sink records about itself, so that what a SIEM misses
 * or may see twice is in the trail (and so reaches the SIEM too, in order):
 *
 * - `sink-dropped`: the sink fell behind beyond its spool bound and skipped
 *   the trail's events fromSeq..toSeq (`custom.sink`, `fromSeq`, `toSeq`,
 *   `count`, `spool`); result `SINK_SPOOL_FULL`.
 * - `sink-cursor-rejected`: the saved cursor failed its signature or named
 *   an event the trail does not hold (edited, from another trail, or the
 *   trail was restored), so the sink resent from the oldest event its
 *   spool allows: `custom.sink`, `reason`, `storedSeq`, `resumedAfter`;
 *   result `INTEGRITY_FAILURE`.
 * - `sink-cursor-missing`: the sink had no saved cursor (a new sink, or its
 *   row deleted from the untrusted file; nothing authenticated tells the two
 *   apart), so it sends from the oldest event its spool allows:
 *   `custom.sink`, `resumedAfter`; result `SINK_CURSOR_MISSING`.
 *
 * Seqs and counts only: nothing of the events themselves.
 */
import { adminEvent } from '../domain/audit/audit-events';
import { AuditEvent, EventStamper } from '../domain/audit/audit-event';
import { SinkNotice } from './siem-transport';

export const SINK_DROPPED_EVENT = 'sink-dropped';
export const SINK_CURSOR_REJECTED_EVENT = 'sink-cursor-rejected';
export const SINK_CURSOR_MISSING_EVENT = 'sink-cursor-missing';

export function sinkNoticeEvent(stamper: EventStamper, notice: SinkNotice): AuditEvent {
  if (notice.kind === 'dropped') {
    return {
      ...adminEvent(stamper, SINK_DROPPED_EVENT, null, null, 'SINK_SPOOL_FULL'),
      custom: { sink: notice.sink, fromSeq: String(notice.fromSeq), toSeq: String(notice.toSeq), count: String(notice.count), spool: String(notice.spool) },
    };
  }
  if (notice.kind === 'cursor-missing') {
    return { ...adminEvent(stamper, SINK_CURSOR_MISSING_EVENT, null, null, 'SINK_CURSOR_MISSING'), custom: { sink: notice.sink, resumedAfter: String(notice.resumedAfter) } };
  }
  return {
    ...adminEvent(stamper, SINK_CURSOR_REJECTED_EVENT, null, null, 'INTEGRITY_FAILURE'),
    custom: { sink: notice.sink, reason: notice.reason, storedSeq: String(notice.storedSeq), resumedAfter: String(notice.resumedAfter) },
  };
}
