/**
 * Activate (KMIP 2.1 §6.1.1, 1.4 §4.19): a Pre-Active instance becomes
 * Active, through the native Activate (grant `activate`). Another state is
 * the native WRONG_STATE: Wrong Key Lifecycle State in 2.x, Illegal
 * Operation in 1.x.
 */
import { instanceNamed, uniqueIdentifierPayload } from './instance-identifier';
import { KmipOperation } from './kmip-operation';
import { PayloadReader } from './payload';

export const activate: KmipOperation = {
  operation: 'Activate',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    reader.rejectOthers();
    return uniqueIdentifierPayload(await ctx.call('Activate', { instance }));
  },
};
