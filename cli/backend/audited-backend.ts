/**
 * Local mode is audited like the server: every call an operator makes on
 * the keychain in the data folder (creating keys, fetching material,
 * granting, revoking…) is an event in the same hash chain, under the local
 * operator's OS identity (role `local`), recorded before the result is
 * given back. If the event cannot be written, the command fails with
 * AUDIT_UNAVAILABLE and nothing it fetched is shown (fail closed); a change
 * it already made stays made and the error says so.
 *
 * Only names go in the event (the first string argument, when it is a key,
 * alias or client name); arguments that may hold material never do.
 */
import { userInfo } from 'node:os';
import { asStrongroomError, AuditError } from '../../common/errors';
import { AuditEvent, EventStamper, stampOf } from '../../domain/audit/audit-event';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { AuditStore } from '../../storage/audit-store';
import { CliBackend } from './backend';

/** Calls that are not operator actions on the keychain. */
const NOT_AUDITED = new Set(['mode', 'close', 'query']);

/** The local operator as local mode's audit events name them: the OS account, role `local`. */
export function localIdentity(): AuditEvent['identity'] {
  let name = 'unknown';
  let uid = -1;
  try {
    const info = userInfo();
    name = info.username;
    uid = info.uid;
  } catch {
    // No passwd entry (containers): keep the uid-less name.
  }
  return { name: `local:${name}`, role: 'local', fingerprint256: '', subject: `uid=${uid}` };
}

function subjectOf(args: readonly unknown[]): { key: string | null; instance: string | null } {
  const [first] = args;
  if (typeof first === 'string') return { key: first, instance: null };
  if (first !== null && typeof first === 'object') {
    const ref = first as { name?: unknown; instance?: unknown };
    return { key: typeof ref.name === 'string' ? ref.name : null, instance: typeof ref.instance === 'string' ? ref.instance : null };
  }
  return { key: null, instance: null };
}

function wipeResult(result: unknown): void {
  const material = (result as { material?: unknown } | null)?.material;
  if (Buffer.isBuffer(material)) material.fill(0);
}

export function auditedBackend(inner: CliBackend, audit: AuditStore, stamper: EventStamper): CliBackend {
  const writer = new AuditWriter(audit);
  const identity = localIdentity();
  const record = (operation: string, args: readonly unknown[], result: string): Promise<void> =>
    writer.record({
      ...stampOf(stamper),
      type: 'local-operation',
      identity,
      endUser: null,
      purpose: null,
      source: 'local',
      operation,
      ...subjectOf(args),
      result,
      requestId: null,
      custom: {},
    });
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || NOT_AUDITED.has(property) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        let result: unknown;
        try {
          result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          await record(property, args, asStrongroomError(err).code).catch(() => undefined);
          throw err;
        }
        try {
          await record(property, args, 'ok');
        } catch (cause) {
          wipeResult(result);
          throw new AuditError('AUDIT_UNAVAILABLE', `the audit trail could not be written: ${property} was done but its result is withheld; check the disk, then \`strongroom audit verify\``, { cause });
        }
        return result;
      };
    },
  });
}
