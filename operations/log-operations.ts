/**
 * Log (docs/protocol.md §6; KMIP 2.1 §6.1.27): a client leaves a message in
 * the server's log. Here the log that counts is the audit trail: one `log`
 * event naming the client and holding the message, so that what a client
 * says it did sits beside what the appliance saw it do. Any client may; the
 * message is short (MAX_LOG_MESSAGE, checked by the schema), attributed to
 * its certificate's identity, and each request is rate-limited like every
 * other, so the trail cannot be flooded or spoken for another.
 */
import { recordClientMarker } from './client-marker';
import { Operation } from './operation';

/** The audit event type a Log writes. */
export const LOG_EVENT = 'log';

export const log: Operation<'Log'> = {
  name: 'Log',
  access: 'any',
  run: (args, ctx) => {
    recordClientMarker(ctx, LOG_EVENT, 'Log', { message: args.message });
    return {};
  },
};
