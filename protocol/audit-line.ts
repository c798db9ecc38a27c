/**
 * The one line format of an audit event outside the keychain: what
 * `strongroom audit export` writes, what the JSON-lines SIEM sink and the
 * JSON syslog format carry, and what `strongroom audit verify --from-file`
 * reads back. Each line is a JSON object with the event's place in the
 * chain, so whoever holds the lines can re-verify the chain on their side:
 *
 *   {"seq":12,"prevHash":"<64 hex>","hash":"<64 hex>","event":{…canonical fields…}}
 *
 * The canonical JSON that was hashed is recomputed from `event` with
 * canonicalEvent() (fixed field order), so the line need not carry it twice.
 */
import { ValidationError } from '../common/errors';
import { AuditEvent, canonicalEvent } from './audit-event';

/** A line longer than this is refused when read back: no event comes near it. */
export const MAX_AUDIT_LINE_BYTES = 64 * 1024;
const HASH_HEX = /^[0-9a-f]{64}$/;

/** One event in its place in the chain, its event as canonical JSON: the keychain's stored record (storage/audit-store.ts AuditRecord). */
export interface ChainedEvent {
  readonly seq: number;
  readonly event: string;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export interface AuditLine {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly event: AuditEvent;
}

/** The exported form of a stored record (no trailing newline). */
export function auditLineOf(record: ChainedEvent): string {
  return `{"seq":${record.seq},"prevHash":"${record.prevHash.toString('hex')}","hash":"${record.hash.toString('hex')}","event":${record.event}}`;
}

/** The exported form of a durable live event (same bytes as auditLineOf for the same record). */
export function auditLineOfLive(live: { seq: number; prevHash: string; hash: string; canonical: string }): string {
  return `{"seq":${live.seq},"prevHash":"${live.prevHash}","hash":"${live.hash}","event":${live.canonical}}`;
}

/**
 * Parses one exported line back into a record the chain verifier takes.
 * INVALID_ARGUMENT (with the line number) for anything that is not a line
 * of this format.
 */
export function parseAuditLine(line: string, lineNumber: number): ChainedEvent {
  if (Buffer.byteLength(line, 'utf8') > MAX_AUDIT_LINE_BYTES) throw new ValidationError(`line ${lineNumber}: longer than ${MAX_AUDIT_LINE_BYTES} bytes; not an audit line`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new ValidationError(`line ${lineNumber}: not JSON; expected one audit event per line as written by \`strongroom audit export\``);
  }
  const value = parsed as Partial<AuditLine> | null;
  if (
    value === null ||
    typeof value !== 'object' ||
    !Number.isSafeInteger(value.seq) ||
    (value.seq as number) < 1 ||
    typeof value.prevHash !== 'string' ||
    !HASH_HEX.test(value.prevHash) ||
    typeof value.hash !== 'string' ||
    !HASH_HEX.test(value.hash) ||
    value.event === null ||
    typeof value.event !== 'object'
  ) {
    throw new ValidationError(`line ${lineNumber}: missing or malformed seq, prevHash, hash or event`);
  }
  let canonical: string;
  try {
    canonical = canonicalEvent(value.event as AuditEvent);
  } catch {
    throw new ValidationError(`line ${lineNumber}: the event does not have the audit event's fields`);
  }
  return { seq: value.seq as number, event: canonical, prevHash: Buffer.from(value.prevHash, 'hex'), hash: Buffer.from(value.hash, 'hex') };
}
