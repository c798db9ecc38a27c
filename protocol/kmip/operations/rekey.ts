/**
 * ReKey (KMIP 2.1 §6.1.44, 1.4 §4.4): the appliance's rollover of the key
 * whose current instance the Unique Identifier names, through the native
 * ReKey by instance (which refuses an instance that is no longer current:
 * a key is replaced once per instance, as KMIP asks). The answer is the new
 * instance's Unique Identifier. The replacement takes the key's attributes
 * (they are the key's, not the instance's), so none may be given. Without
 * an Offset the new instance is Active at once and the old one Deactivated
 * (it still decrypts); with an Offset it becomes Active that many seconds
 * from now (the native `activateAt`): a scheduled rollover.
 */
import { KeyDescription } from '../../../domain/keys/key-catalogue';
import { readRequestedAttributes } from './attribute-template';
import { instanceNamed } from './instance-identifier';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { PayloadReader, responsePayload, textItem } from './payload';

export const reKey: KmipOperation = {
  operation: 'ReKey',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const uid = instanceNamed(reader, ctx);
    const offsetNode = reader.optional('Offset');
    const requested = readRequestedAttributes(reader, ctx.version);
    reader.rejectOthers();
    const { customAttributes, ...fields } = requested;
    if (Object.values(fields).some((value) => value !== undefined) || Object.keys(customAttributes).length > 0) {
      throw new KmipOperationError('FeatureNotSupported', 'ReKey takes no attributes here: the new instance keeps its key\'s attributes');
    }
    if (offsetNode !== undefined && offsetNode.type !== 'Interval') throw new KmipOperationError('InvalidField', `RequestPayload/Offset must be an Interval, not a ${offsetNode.type}`);
    const offset = offsetNode === undefined ? 0 : (offsetNode.value as number);
    const activateAt = offset > 0 ? new Date(ctx.nowMs() + offset * 1000).toISOString() : undefined;
    const described = (await ctx.call('ReKey', { instance: uid, activateAt })) as KeyDescription;
    const made = described.instances.reduce((newest, instance) => (instance.version > newest.version ? instance : newest));
    return responsePayload([textItem('UniqueIdentifier', made.name)]);
  },
};
