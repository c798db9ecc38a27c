/**
 * Log (docs/protocol.md §6; KMIP 2.1 §6.1.27): a client leaves a message in
 * the server's log. Here the log that counts is the audit trail: one `log`
 * event naming the client and holding the message, so that what a client
 * says it did sits beside what the appliance saw it do. Any client may; the
 * message is short (MAX_LOG_MESSAGE, checked by the schema), attributed to
 * its certificate's identity, and each request is rate-limited like every
 * other, so the trail cannot be flooded or spoken for another.
 */
import { stampOf } from '../domain/audit/audit-event';
import { Operation } from './operation';

/** The audit event type a Log writes. */
export const LOG_EVENT = 'log';

export const log: Operation<'Log'> = {
  name: 'Log',
  access: 'any',
  run: (args, ctx) => {
    const { services, identity } = ctx;
    const recorded = services.recordAudit({
      ...stampOf(services),
      type: LOG_EVENT,
      identity: { name: identity.name, role: identity.role, fingerprint256: identity.fingerprint256, subject: identity.subject },
      endUser: ctx.meta.endUser ?? null,
      purpose: ctx.meta.purpose ?? null,
      source: null,
      operation: 'Log',
      key: null,
      instance: null,
      result: 'ok',
      requestId: null,
      custom: { message: args.message },
    });
    // Answered once durable: a client told its message is logged can rely on it.
    if (ctx.awaitAudit !== undefined) ctx.awaitAudit(recorded);
    else recorded.catch(() => undefined);
    return {};
  },
};
