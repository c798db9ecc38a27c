/**
 * ArcSight Common Event Format (CEF:0) for an audit event, after
 * "Implementing ArcSight CEF" (Micro Focus, rev. 25), "Character encoding":
 *
 *   CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
 *
 * - Header: a backslash is escaped as `\\` and a pipe as `\|`. The header may
 *   not span lines (multi-line values are "only allowed in the value part of
 *   the extensions"), so CR and LF in a header field become a space.
 * - Extension values: a backslash is escaped as `\\`, an equal sign as `\=`,
 *   and a newline as `\n` (CR as `\r`); a pipe needs no escaping there.
 * - Everywhere: TAB, the other C0 and C1 controls, DEL, U+2028 and U+2029
 *   have no CEF escape and become U+FFFD (sinks/control-characters.ts).
 * - Other non-ASCII stays as it is: CEF is UTF-8.
 * - The extension starts right after the last header pipe, as CEF has it.
 *   (liblognorm 2.0.6, rsyslog's CEF parser, drops the byte after that pipe
 *   as if it were a space: the SIEM side works around it, see
 *   docs/audit-sinks.md "Parsing it with rsyslog"; we follow the spec.)
 *
 * Field mapping (docs/audit-sinks.md): rt, externalId, cat, act, outcome,
 * suser / spriv (certificate identity and role), duser (the end user an
 * application acts for), src (client address), cs1 key, cs2 instance,
 * cs3 chain hash, cs4 previous hash, cs5 purpose, cs6 certificate
 * fingerprint, cn1 seq, msg (request id and custom meta as JSON). Pure.
 */
import { isIP } from 'node:net';
import { AuditLiveEvent } from '../domain/events/event-bus';
import { CONTROL_CHARACTER_CLASS, CONTROL_REPLACEMENT } from './control-characters';
import { eventAction, eventGravity, EventGravity, eventTimeMs } from './event-summary';

export const CEF_VENDOR = 'Strongroom';
export const CEF_PRODUCT = 'Strongroom';

/** CEF severity 0-10: an allowed operation is low, a refusal medium, a failed authentication high. */
const CEF_SEVERITY: Record<EventGravity, number> = { info: 3, refused: 6, 'auth-failure': 8 };

const HEADER_SPECIAL = new RegExp(`[\\\\|${CONTROL_CHARACTER_CLASS}]`);
const HEADER_REWRITE = new RegExp(`\\r\\n|[\\\\|${CONTROL_CHARACTER_CLASS}]`, 'g');
const EXTENSION_SPECIAL = new RegExp(`[\\\\=${CONTROL_CHARACTER_CLASS}]`);
const EXTENSION_REWRITE = new RegExp(`[\\\\=${CONTROL_CHARACTER_CLASS}]`, 'g');
const EXTENSION_ESCAPES: Record<string, string> = { '\\': '\\\\', '=': '\\=', '\n': '\\n', '\r': '\\r' };

export function escapeCefHeader(value: string): string {
  // Most values need nothing: test first, so the hot path allocates nothing.
  if (!HEADER_SPECIAL.test(value)) return value;
  return value.replace(HEADER_REWRITE, (c) => (c === '\\' || c === '|' ? `\\${c}` : c === '\r\n' || c === '\r' || c === '\n' ? ' ' : CONTROL_REPLACEMENT));
}

export function escapeCefExtension(value: string): string {
  if (!EXTENSION_SPECIAL.test(value)) return value;
  return value.replace(EXTENSION_REWRITE, (c) => EXTENSION_ESCAPES[c] ?? CONTROL_REPLACEMENT);
}

/** The CEF record of one durable event (no syslog header: the sink adds it). */
export function formatCef(live: AuditLiveEvent, deviceVersion: string): string {
  const event = live.event;
  const header = ['CEF:0', CEF_VENDOR, CEF_PRODUCT, deviceVersion, `${event.type}:${eventAction(event)}`, `${event.type} ${eventAction(event)} ${event.result}`, String(CEF_SEVERITY[eventGravity(event)])];
  const fields: Array<[string, string | null]> = [
    ['rt', String(eventTimeMs(event))],
    ['externalId', event.eventId],
    ['cat', event.type],
    ['act', eventAction(event)],
    ['outcome', event.result],
    ['suser', event.identity?.name || null],
    ['spriv', event.identity?.role || null],
    ['duser', event.endUser],
    ['src', event.source !== null && isIP(event.source) !== 0 ? event.source : null],
    ['cs1Label', 'key'],
    ['cs1', event.key],
    ['cs2Label', 'instance'],
    ['cs2', event.instance],
    ['cs3Label', 'chainHash'],
    ['cs3', live.hash],
    ['cs4Label', 'prevHash'],
    ['cs4', live.prevHash],
    ['cs5Label', 'purpose'],
    ['cs5', event.purpose],
    ['cs6Label', 'certFingerprint'],
    ['cs6', event.identity?.fingerprint256 || null],
    ['cn1Label', 'seq'],
    ['cn1', String(live.seq)],
    ['msg', requestSummary(live)],
  ];
  const extension = fields
    .filter((field): field is [string, string] => field[1] !== null)
    .map(([key, value]) => `${key}=${escapeCefExtension(value)}`)
    .join(' ');
  return `${header.map((field, i) => (i === 0 ? field : escapeCefHeader(field))).join('|')}|${extension}`;
}

/**
 * The request id, custom meta, the reference as requested (when it was
 * an alias or an instance name: cs1/cs2 and key/instance hold the resolved
 * key) and the wire when it was not the native one (KMIP), which have no
 * standard CEF key, as one JSON value (null when all are empty).
 */
export function requestSummary(live: AuditLiveEvent): string | null {
  const { requestId, custom, transport } = live.event;
  const requested = live.event.requested ?? null;
  if (requestId === null && Object.keys(custom).length === 0 && requested === null && transport === undefined) return null;
  const summary = requested === null ? { requestId, custom } : { requestId, custom, requested };
  return JSON.stringify(transport === undefined ? summary : { ...summary, transport });
}
