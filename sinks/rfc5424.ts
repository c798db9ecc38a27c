/**
 * Syslog messages after RFC 5424, framed for their transport:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="v"…] BOM MSG
 *
 * - PRI = facility × 8 + severity (§6.2.1); facility 13 ("log audit") by default.
 * - TIMESTAMP is the event's own time (ISO 8601 UTC, §6.2.3), not the send time,
 *   so a retried event keeps the time it happened.
 * - HOSTNAME, APP-NAME, PROCID and MSGID are PRINTUSASCII of at most 255, 48,
 *   128 and 32 characters (§6.2.4-6.2.7); anything else is replaced by `_`,
 *   and an empty value by the NILVALUE `-`.
 * - STRUCTURED-DATA carries the event's place in the chain,
 *   `[strongroom@32473 seq="12" hash="…" prevHash="…"]`, so a receiver can
 *   detect a missing, altered or reordered event whatever the MSG format.
 *   32473 is the private enterprise number RFC 5612 reserves for examples
 *   and documentation; PARAM-VALUEs escape `"`, `\` and `]` (§6.3.3).
 * - MSG is UTF-8 and so starts with the BOM (§6.4).
 *
 * Framing: over TCP and TLS, octet counting (RFC 6587 §3.4.1 / RFC 5425
 * §4.3): `MSG-LEN SP SYSLOG-MSG`, robust for MSGs that hold newlines. Over
 * UDP, one message per datagram (RFC 5426 §3.1), cut to a size cap at a
 * UTF-8 boundary and never inside a backslash escape of the MSG (§3.2
 * allows truncation; the header and the chain SD come first, so they
 * survive it). Pure: the hostname and pid are passed in.
 */
import { AuditLiveEvent } from '../domain/events/event-bus';
import { eventGravity, EventGravity } from './event-summary';

export const SD_ID = 'strongroom@32473';
export const APP_NAME = 'strongroom';
/** "log audit" (RFC 5424 table 1): where a SIEM expects an audit trail. */
export const DEFAULT_FACILITY = 13;
const UTF8_BOM = '\uFEFF';
/** Syslog severity (RFC 5424 table 2): informational, notice, warning. */
const SYSLOG_SEVERITY: Record<EventGravity, number> = { info: 6, refused: 5, 'auth-failure': 4 };

export interface SyslogOrigin {
  readonly hostname: string;
  readonly procId: string;
  readonly facility: number;
}

/** A header field: printable US-ASCII (33-126), at most `max` characters; `-` when empty. */
export function headerField(value: string, max: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return printable === '' ? '-' : printable;
}

export function escapeSdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** The whole RFC 5424 message for one event, with `body` (JSON line, CEF or LEEF) as MSG. */
export function syslogMessage(live: AuditLiveEvent, body: string, origin: SyslogOrigin): string {
  const pri = origin.facility * 8 + SYSLOG_SEVERITY[eventGravity(live.event)];
  const sd = `[${SD_ID} seq="${live.seq}" hash="${escapeSdValue(live.hash)}" prevHash="${escapeSdValue(live.prevHash)}"]`;
  const header = [`<${pri}>1`, headerField(live.event.time, 64), headerField(origin.hostname, 255), APP_NAME, headerField(origin.procId, 128), headerField(live.event.type, 32)].join(' ');
  return `${header} ${sd} ${UTF8_BOM}${body}`;
}

/** Octet-counting frame (RFC 6587 §3.4.1): the byte length, a space, the message (as text: a batch is encoded once, when written). */
export function octetCountedFrame(message: string): string {
  return `${Buffer.byteLength(message, 'utf8')} ${message}`;
}

/**
 * One datagram: the message's bytes, cut to `maxBytes` at a UTF-8 character
 * boundary and outside any escape sequence of the MSG, so that a truncated
 * record still reads as what it says up to the cut (a lone `\` at the end
 * would escape whatever a relay appends, and half a `\uXXXX` is no JSON).
 * `truncated` says whether anything was cut.
 */
export function datagram(message: string, maxBytes: number): { bytes: Buffer; truncated: boolean } {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= maxBytes) return { bytes, truncated: false };
  let end = maxBytes;
  // Continuation bytes are 10xxxxxx: back up to the start of the cut character.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  // The MSG starts after the BOM; the header and SD before it are ASCII without a BOM.
  const bodyStart = bytes.indexOf(UTF8_BOM_BYTES);
  if (bodyStart >= 0) end = escapeBoundary(bytes, bodyStart + UTF8_BOM_BYTES.length, end);
  return { bytes: bytes.subarray(0, end), truncated: true };
}

const UTF8_BOM_BYTES = Buffer.from(UTF8_BOM, 'utf8');
const BACKSLASH = 0x5c;
const LETTER_U = 0x75;
/** The longest escape a MSG holds: JSON's `\uXXXX`. CEF's and LEEF's are two bytes (`\` and one character). */
const LONGEST_ESCAPE = 6;

/**
 * `end`, or the start of the escape it would split. In every MSG format we
 * send (JSON, CEF, LEEF) a backslash is either an escape's first byte or the
 * escaped second one, so an odd run of backslashes just before `end` means
 * the last one lost its partner; JSON's `\u` escape is six bytes long.
 */
function escapeBoundary(bytes: Buffer, start: number, end: number): number {
  for (let at = end - 1; at >= start && at >= end - (LONGEST_ESCAPE - 1); at--) {
    if (bytes[at] !== BACKSLASH) continue;
    // Is the backslash at `at` an escape's first byte? Only if the run of backslashes ending at it is odd.
    let run = 1;
    while (at - run >= start && bytes[at - run] === BACKSLASH) run++;
    if (run % 2 === 0) return end; // `at` is escaped: the escape before it is whole, and nothing after it is an escape
    const length = bytes[at + 1] === LETTER_U && at + 1 < end ? LONGEST_ESCAPE : 2;
    return at + length > end ? at : end;
  }
  return end;
}
