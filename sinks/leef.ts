/**
 * IBM QRadar Log Event Extended Format, LEEF 2.0, for an audit event. The
 * structure is IBM's ("LEEF event components", QRadar DSM documentation):
 *
 *   LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|key=value<delim>key=value…
 *
 * IBM defines the header as pipe-delimited and the attribute delimiter as
 * the 2.0 header's sixth field, and its "Best practices guidelines for LEEF
 * events" tell senders to keep tab, pipe and caret out of keys and values;
 * it defines no escape for values. Our values are not ours to choose (a
 * user name, a refused key name), so:
 *
 * - Header: a pipe inside a field is escaped as `\|` and a backslash as
 *   `\\` (the convention LEEF readers such as nsyslog-parser apply to the
 *   header); a header cannot span lines, so CR and LF become a space.
 * - Delimiter: the caret `^`, that of IBM's own 2.0 examples (tabs are
 *   often mangled by syslog relays).
 * - Values: the backslash convention of CEF extended to LEEF's specials:
 *   `\` → `\\`, `^` → `\^`, `=` → `\=`, tab → `\t`, CR / LF → `\r` / `\n`.
 *   A value then never ends a pair, a record or a line, and `\` always
 *   begins an escape, so a reader that knows the rule gets the value back
 *   (the property tests read every record back this way).
 * - Everywhere: the other C0 and C1 controls, DEL, U+2028 and U+2029 (and a
 *   TAB in the header) become U+FFFD (sinks/control-characters.ts): no
 *   LEEF reader knows an escape for them, and raw they break lines or drive
 *   terminals.
 * - Other non-ASCII stays UTF-8 (LEEF is UTF-8).
 *
 * Attributes: the predefined LEEF keys devTime (with devTimeFormat), cat,
 * sev, src, usrName (certificate identity), plus custom keys (IBM allows
 * them): role, endUser, purpose, action, result, key, instance, seq,
 * chainHash, prevHash, eventId, fingerprint, request. Pure.
 */
import { isIP } from 'node:net';
import { AuditLiveEvent } from '../domain/events/event-bus';
import { requestSummary } from './cef';
import { CONTROL_CHARACTER_CLASS, CONTROL_REPLACEMENT } from './control-characters';
import { eventAction, eventGravity, EventGravity } from './event-summary';

export const LEEF_DELIMITER = '^';
/** LEEF's devTimeFormat is a Java SimpleDateFormat pattern; this one reads our ISO 8601 UTC times. */
const DEV_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSX";
/** LEEF sev is 1-10. */
const LEEF_SEVERITY: Record<EventGravity, number> = { info: 3, refused: 6, 'auth-failure': 8 };

const HEADER_SPECIAL = new RegExp(`[\\\\|${CONTROL_CHARACTER_CLASS}]`);
const HEADER_REWRITE = new RegExp(`\\r\\n|[\\\\|${CONTROL_CHARACTER_CLASS}]`, 'g');
const VALUE_SPECIAL = new RegExp(`[\\\\^=${CONTROL_CHARACTER_CLASS}]`);
const VALUE_REWRITE = new RegExp(`[\\\\^=${CONTROL_CHARACTER_CLASS}]`, 'g');
const VALUE_ESCAPES: Record<string, string> = { '\\': '\\\\', '^': '\\^', '=': '\\=', '\t': '\\t', '\r': '\\r', '\n': '\\n' };

export function escapeLeefHeader(value: string): string {
  // Most values need nothing: test first, so the hot path allocates nothing.
  if (!HEADER_SPECIAL.test(value)) return value;
  return value.replace(HEADER_REWRITE, (c) => (c === '\\' || c === '|' ? `\\${c}` : c === '\r\n' || c === '\r' || c === '\n' ? ' ' : CONTROL_REPLACEMENT));
}

export function escapeLeefValue(value: string): string {
  if (!VALUE_SPECIAL.test(value)) return value;
  return value.replace(VALUE_REWRITE, (c) => VALUE_ESCAPES[c] ?? CONTROL_REPLACEMENT);
}

/** The LEEF record of one durable event (no syslog header: the sink adds it). */
export function formatLeef(live: AuditLiveEvent, productVersion: string): string {
  const event = live.event;
  const header = ['LEEF:2.0', 'Strongroom', 'Strongroom', productVersion, `${event.type}:${eventAction(event)}`];
  const fields: Array<[string, string | null]> = [
    ['devTime', event.time],
    ['devTimeFormat', DEV_TIME_FORMAT],
    ['cat', event.type],
    ['sev', String(LEEF_SEVERITY[eventGravity(event)])],
    ['src', event.source !== null && isIP(event.source) !== 0 ? event.source : null],
    ['usrName', event.identity?.name || null],
    ['role', event.identity?.role || null],
    ['endUser', event.endUser],
    ['purpose', event.purpose],
    ['action', eventAction(event)],
    ['result', event.result],
    ['key', event.key],
    ['instance', event.instance],
    ['seq', String(live.seq)],
    ['chainHash', live.hash],
    ['prevHash', live.prevHash],
    ['eventId', event.eventId],
    ['fingerprint', event.identity?.fingerprint256 || null],
    ['request', requestSummary(live)],
  ];
  const attributes = fields
    .filter((field): field is [string, string] => field[1] !== null)
    .map(([key, value]) => `${key}=${escapeLeefValue(value)}`)
    .join(LEEF_DELIMITER);
  return `${header.map((field, i) => (i === 0 ? field : escapeLeefHeader(field))).join('|')}|${LEEF_DELIMITER}|${attributes}`;
}
