/**
 * The audit sinks of the appliance config (docs/audit-sinks.md):
 *
 *   audit_sinks = siem, hr-siem
 *   audit_sink.siem = transport=syslog-tcp host=10.0.0.5 port=514 format=cef
 *   audit_sink.hr-siem = transport=syslog-tls host=siem.hr.example port=6514 ca=pki/hr-ca.pem namespaces=hr types=operation
 *
 * Each sink is one line of space-separated `field=value` pairs. Everything
 * is checked here, strictly: an unknown or repeated field, a missing
 * required one or a bad value is a ConfigError (CONFIG_INVALID) that names
 * the sink and the field, so a typo never silently sends the trail
 * somewhere else or nowhere. Pure (paths are resolved against the data
 * folder given).
 */
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../common/errors';
import { DEFAULT_FACILITY } from './rfc5424';

export type SinkTransportKind = 'file' | 'syslog-udp' | 'syslog-tcp' | 'syslog-tls' | 'relp' | 'relp-tls';
export type SinkFormat = 'json' | 'cef' | 'leef';

export interface SinkSpec {
  readonly name: string;
  readonly transport: SinkTransportKind;
  readonly format: SinkFormat;
  /** file: the JSON-lines file, appended to. */
  readonly path: string | null;
  readonly host: string | null;
  readonly port: number | null;
  /** syslog-tls, relp-tls: the CA that must have issued the SIEM's certificate (unset: the system's trusted CAs). */
  readonly caFile: string | null;
  /** syslog-tls, relp-tls: an optional client certificate and key, for SIEMs that ask for one. */
  readonly certFile: string | null;
  readonly keyFile: string | null;
  /** syslog-tls, relp-tls: the name the SIEM's certificate must carry (unset: host). */
  readonly serverName: string | null;
  /** Only these event types (null: all). */
  readonly types: readonly string[] | null;
  /** Only events about keys in these namespaces (null: all events, keyless ones included). */
  readonly namespaces: readonly string[] | null;
  /** Most events sent per second (null: no limit). Delays delivery; never drops from the local chain. */
  readonly ratePerSecond: number | null;
  /** Most events held in memory on their way to this sink; beyond it the sink reads them back from the trail later. */
  readonly queueCapacity: number;
  /** Most events this sink may fall behind the trail beyond its queue (its spool); past it the oldest are skipped, counted and audited. */
  readonly spoolEvents: number;
  /** Longest wait between two delivery attempts (the back-off doubles up to it). */
  readonly retryMaxMs: number;
  readonly facility: number;
  /** syslog-udp: largest datagram; a longer message is cut (and counted). */
  readonly maxDatagramBytes: number;
  /** HOSTNAME of the syslog header (unset: the machine's host name). */
  readonly hostname: string | null;
}

export const SINK_SETTING_PREFIX = 'audit_sink.';
/** Sink names: short, and safe in a setting key and an environment variable name. */
const SINK_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Most sinks: each holds a queue and a connection. */
export const MAX_SINKS = 16;
export const DEFAULT_QUEUE_CAPACITY = 10_000;
/** A queue bound beyond this is refused: a million events is already hundreds of MB waiting. */
export const MAX_QUEUE_CAPACITY = 1_000_000;
export const DEFAULT_RETRY_MAX_MS = 30_000;
/** How far behind a sink may fall by default: a day of 1 event per second, with room. */
export const DEFAULT_SPOOL_EVENTS = 100_000;
/** The spool is the trail (no copy), but catching up on more than this takes long: beyond it, audit export is the way. */
export const MAX_SPOOL_EVENTS = 10_000_000;
/** Below this the 10% hysteresis at the bound is one event. */
const MIN_SPOOL_EVENTS = 10;
/** RFC 5426 §3.2: receivers SHOULD take 2048 bytes; beyond that, fragmentation and loss. */
export const DEFAULT_MAX_DATAGRAM_BYTES = 2048;
/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM_BYTES = 65_507;
/** RFC 5426 §3.2: every receiver takes 480 bytes. */
const MIN_DATAGRAM_BYTES = 480;

const FIELDS = ['transport', 'format', 'path', 'host', 'port', 'ca', 'cert', 'key', 'servername', 'types', 'namespaces', 'rate', 'queue', 'spool', 'retry_max_ms', 'facility', 'max_datagram', 'hostname'] as const;
type Field = (typeof FIELDS)[number];
const TRANSPORTS: readonly SinkTransportKind[] = ['file', 'syslog-udp', 'syslog-tcp', 'syslog-tls', 'relp', 'relp-tls'];
const FORMATS: readonly SinkFormat[] = ['json', 'cef', 'leef'];
/** RELP has no assigned port: 2514 is the one rsyslog's documentation uses. */
const DEFAULT_PORTS: Record<Exclude<SinkTransportKind, 'file'>, number> = { 'syslog-udp': 514, 'syslog-tcp': 514, 'syslog-tls': 6514, relp: 2514, 'relp-tls': 2514 };
/** Fields each transport takes besides the common ones. */
const TRANSPORT_FIELDS: Record<SinkTransportKind, readonly Field[]> = {
  file: ['path'],
  'syslog-udp': ['host', 'port', 'facility', 'max_datagram', 'hostname'],
  'syslog-tcp': ['host', 'port', 'facility', 'hostname'],
  'syslog-tls': ['host', 'port', 'facility', 'hostname', 'ca', 'cert', 'key', 'servername'],
  relp: ['host', 'port', 'facility', 'hostname'],
  'relp-tls': ['host', 'port', 'facility', 'hostname', 'ca', 'cert', 'key', 'servername'],
};
const COMMON_FIELDS: readonly Field[] = ['transport', 'format', 'types', 'namespaces', 'rate', 'queue', 'spool', 'retry_max_ms'];

/** The environment variable that overrides `audit_sink.<name>`. */
export function sinkEnvName(name: string): string {
  return `STRONGROOM_AUDIT_SINK_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** The sink names of `audit_sinks` (comma list; empty: none). */
export function parseSinkNames(list: string): string[] {
  const names = list.split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const name of names) {
    if (!SINK_NAME.test(name)) throw new ConfigError(`audit_sinks: "${name}" is not a sink name (lower-case letters, digits, "-" and "_", at most 32)`);
  }
  if (new Set(names).size !== names.length) throw new ConfigError('audit_sinks names a sink twice');
  if (names.length > MAX_SINKS) throw new ConfigError(`audit_sinks names more than ${MAX_SINKS} sinks`);
  return names;
}

/** Every sink of a loaded config, checked. */
export function sinkSpecsOf(values: Readonly<Record<string, string | null>>, dataDir: string): SinkSpec[] {
  return parseSinkNames(values.audit_sinks ?? '').map((name) => {
    const line = values[`${SINK_SETTING_PREFIX}${name}`];
    if (line === null || line === undefined || line.trim() === '') throw new ConfigError(`audit sink "${name}" is listed in audit_sinks but ${SINK_SETTING_PREFIX}${name} is not set`);
    return parseSinkSpec(name, line, dataDir);
  });
}

export function parseSinkSpec(name: string, line: string, dataDir: string): SinkSpec {
  const fail = (field: string, why: string): never => {
    throw new ConfigError(`audit sink "${name}": ${field} ${why}`, { details: { sink: name, field } });
  };
  const given = new Map<Field, string>();
  for (const token of line.trim().split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) fail(token, 'is not a field=value pair');
    const field = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (!(FIELDS as readonly string[]).includes(field)) fail(field, `is not a sink field (${FIELDS.join(', ')})`);
    if (given.has(field as Field)) fail(field, 'is given twice');
    if (value === '') fail(field, 'is empty');
    given.set(field as Field, value);
  }
  const transport = given.get('transport');
  if (transport === undefined) return fail('transport', `is required (${TRANSPORTS.join(', ')})`);
  if (!(TRANSPORTS as readonly string[]).includes(transport)) return fail('transport', `must be one of ${TRANSPORTS.join(', ')}, not "${transport}"`);
  const kind = transport as SinkTransportKind;
  for (const field of given.keys()) {
    if (!COMMON_FIELDS.includes(field) && !TRANSPORT_FIELDS[kind].includes(field)) fail(field, `does not apply to transport ${kind}`);
  }
  const format = given.get('format') ?? 'json';
  if (!(FORMATS as readonly string[]).includes(format)) fail('format', `must be one of ${FORMATS.join(', ')}, not "${format}"`);
  if (kind === 'file' && format !== 'json') fail('format', 'of a file sink is json (the audit export line that `audit verify --from-file` reads)');
  const path = (value: string | undefined): string | null => (value === undefined ? null : isAbsolute(value) ? value : resolve(dataDir, value));
  const integer = (field: Field, fallback: number, min: number, max: number): number => {
    const value = given.get(field);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) fail(field, `must be a whole number from ${min} to ${max}, not "${value}"`);
    return Number(value);
  };
  const list = (field: Field, item: RegExp): string[] | null => {
    const value = given.get(field);
    if (value === undefined) return null;
    const items = value.split(',').filter((v) => v !== '');
    for (const entry of items) if (!item.test(entry)) fail(field, `holds "${entry}", which is not a valid entry`);
    return items;
  };
  const host = given.get('host') ?? null;
  if (kind !== 'file' && host === null) fail('host', `is required for transport ${kind}`);
  if (kind === 'file' && !given.has('path')) fail('path', 'is required for transport file');
  if (given.has('key') !== given.has('cert')) fail(given.has('key') ? 'cert' : 'key', 'is required with the other (a client certificate and its key)');
  const rate = integer('rate', 0, 0, 1_000_000);
  return {
    name,
    transport: kind,
    format: format as SinkFormat,
    path: path(given.get('path')),
    host,
    port: kind === 'file' ? null : integer('port', DEFAULT_PORTS[kind], 1, 65535),
    caFile: path(given.get('ca')),
    certFile: path(given.get('cert')),
    keyFile: path(given.get('key')),
    serverName: given.get('servername') ?? null,
    types: list('types', /^[a-z][a-z0-9-]{0,63}$/),
    namespaces: list('namespaces', /^[A-Za-z0-9][A-Za-z0-9._/-]*$/),
    ratePerSecond: rate === 0 ? null : rate,
    queueCapacity: integer('queue', DEFAULT_QUEUE_CAPACITY, 1, MAX_QUEUE_CAPACITY),
    spoolEvents: integer('spool', DEFAULT_SPOOL_EVENTS, MIN_SPOOL_EVENTS, MAX_SPOOL_EVENTS),
    retryMaxMs: integer('retry_max_ms', DEFAULT_RETRY_MAX_MS, 10, 3_600_000),
    facility: integer('facility', DEFAULT_FACILITY, 0, 23),
    maxDatagramBytes: integer('max_datagram', DEFAULT_MAX_DATAGRAM_BYTES, MIN_DATAGRAM_BYTES, MAX_DATAGRAM_BYTES),
    hostname: given.get('hostname') ?? null,
  };
}
