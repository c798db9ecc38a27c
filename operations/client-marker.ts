/**
 * A client's own words written into the trail (Log's message, Interop's
 * test-case marker): one audit event of `type` naming the caller, holding
 * `custom`, that the answer waits for, so that a client told its words are
 * recorded can rely on it. Shared by the operations that only record.
 */
import { stampOf } from '../domain/audit/audit-event';
import { OperationContext } from './context';

export function recordClientMarker(ctx: OperationContext, type: string, operation: string, custom: Record<string, string>): void {
  const { services, identity } = ctx;
  const recorded = services.recordAudit({
    ...stampOf(services),
    type,
    identity: { name: identity.name, role: identity.role, fingerprint256: identity.fingerprint256, subject: identity.subject },
    endUser: ctx.meta.endUser ?? null,
    purpose: ctx.meta.purpose ?? null,
    source: null,
    operation,
    key: null,
    instance: null,
    result: 'ok',
    requestId: null,
    custom,
  });
  if (ctx.awaitAudit !== undefined) ctx.awaitAudit(recorded);
  else recorded.catch(() => undefined);
}
