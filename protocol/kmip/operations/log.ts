/**
 * Log (KMIP 2.1 §6.1.27): the client's Log Message goes into the audit trail
 * through the native Log (a `log` event naming the client; at most 256
 * characters, longer is Invalid Field). The Response Payload is empty.
 */
import { KmipOperation } from './kmip-operation';
import { PayloadReader, responsePayload } from './payload';

export const log: KmipOperation = {
  operation: 'Log',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const message = reader.requiredText('LogMessage');
    reader.rejectOthers();
    await ctx.call('Log', { message });
    return responsePayload([]);
  },
};
