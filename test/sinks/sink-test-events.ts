/**
 * Audit events for the sink tests, chained for real (nextRecord), and small
 * readers of CEF and LEEF that undo each format's escaping, so the tests
 * check what a SIEM would parse out of our output, not our own strings.
 */
import { AuditEvent, canonicalEvent } from '../../domain/audit/audit-event';
import { nextRecord } from '../../domain/audit/audit-chain';
import { AuditLiveEvent } from '../../domain/events/event-bus';

export function auditEvent(n: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    time: '2026-03-01T12:34:56.789Z',
    eventId: `e-${n}`,
    type: 'operation',
    identity: { name: 'billing-app', role: 'app', fingerprint256: 'AB:CD', subject: 'CN=billing-app' },
    endUser: 'alice',
    purpose: 'payroll run',
    source: '127.0.0.1',
    operation: 'Get',
    key: 'hr/payroll',
    instance: 'inst-1',
    result: 'ok',
    requestId: n,
    custom: {},
    ...over,
  };
}

/** A chain of live events as the bus publishes them. */
export function liveChain(events: readonly AuditEvent[]): AuditLiveEvent[] {
  let head: { seq: number; hash: Buffer } | null = null;
  return events.map((event) => {
    const canonical = canonicalEvent(event);
    const record = nextRecord(head, canonical);
    head = { seq: record.seq, hash: record.hash };
    return { kind: 'audit', seq: record.seq, hash: record.hash.toString('hex'), prevHash: record.prevHash.toString('hex'), canonical, event: JSON.parse(canonical) as AuditEvent };
  });
}

/** Splits on `sep` where it is not escaped by a backslash; keeps the escapes. */
function splitUnescaped(text: string, sep: string, limit = Infinity): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === sep && parts.length < limit) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function unescape(text: string, map: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      out += text[i];
      continue;
    }
    const next = text[++i];
    if (next === undefined || !(next in map)) throw new Error(`unknown escape \\${next} in ${JSON.stringify(text)}`);
    out += map[next];
  }
  return out;
}

export interface ParsedRecord {
  readonly header: string[];
  readonly fields: Record<string, string>;
}

const CEF_HEADER_ESCAPES = { '\\': '\\', '|': '|' };
const CEF_VALUE_ESCAPES = { '\\': '\\', '=': '=', n: '\n', r: '\r' };

/**
 * Reads a CEF record as ArcSight does: seven unescaped pipes end the header;
 * in the extension, a key is the word before an unescaped `=`, and its value
 * runs to the space before the next key.
 */
export function parseCef(record: string): ParsedRecord {
  if (/[\r\n]/.test(record)) throw new Error('a CEF record is one line');
  const parts = splitUnescaped(record, '|', 7);
  if (parts.length !== 8) throw new Error(`expected 8 header parts, got ${parts.length}`);
  const header = parts.slice(0, 7).map((p) => unescape(p, CEF_HEADER_ESCAPES));
  const fields: Record<string, string> = {};
  const pieces = splitUnescaped(parts[7], '=');
  // pieces: k0 | "v0 k1" | "v1 k2" | … | vN
  let key = pieces[0];
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i];
    const last = i === pieces.length - 1;
    const space = last ? -1 : piece.lastIndexOf(' ');
    if (!last && space < 0) throw new Error(`no key before "=" in ${JSON.stringify(piece)}`);
    const raw = last ? piece : piece.slice(0, space);
    if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
    fields[key] = unescape(raw, CEF_VALUE_ESCAPES);
    if (!last) key = piece.slice(space + 1);
  }
  return { header, fields };
}

const LEEF_HEADER_ESCAPES = { '\\': '\\', '|': '|' };
const LEEF_VALUE_ESCAPES = { '\\': '\\', '^': '^', '=': '=', t: '\t', n: '\n', r: '\r' };

/** Reads a LEEF 2.0 record: five header fields and the delimiter, then key=value pairs split on the unescaped delimiter. */
export function parseLeef(record: string): ParsedRecord & { delimiter: string } {
  if (/[\r\n]/.test(record)) throw new Error('a LEEF record is one line');
  const parts = splitUnescaped(record, '|', 6);
  if (parts.length !== 7) throw new Error(`expected 7 header parts, got ${parts.length}`);
  const header = parts.slice(0, 5).map((p) => unescape(p, LEEF_HEADER_ESCAPES));
  const delimiter = parts[5];
  const fields: Record<string, string> = {};
  for (const pair of splitUnescaped(parts[6], delimiter)) {
    const [key, ...rest] = splitUnescaped(pair, '=');
    if (rest.length !== 1) throw new Error(`expected one unescaped "=" in ${JSON.stringify(pair)}`);
    if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error(`bad key ${JSON.stringify(key)}`);
    fields[key] = unescape(rest[0], LEEF_VALUE_ESCAPES);
  }
  return { header, fields, delimiter };
}
