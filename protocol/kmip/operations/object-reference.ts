/**
 * The managed object a request's Unique Identifier names (an instance
 * name), described through the native GetAttributes: the caller needs
 * `get-attributes` on its key, and the audit event names the key and the
 * instance. An unknown instance is Item Not Found for an officer and
 * Permission Denied for anyone else (the native rule: probing an instance
 * name reveals nothing to a client that could not read it).
 */
import { ObjectView } from './attribute-views';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

/**
 * The Unique Identifier field, required: a request without one would mean
 * the ID Placeholder of an earlier batch item, which this server does not
 * keep, so it is refused rather than guessed.
 */
export function requiredUniqueIdentifier(reader: PayloadReader): string {
  const uid = reader.text('UniqueIdentifier');
  if (uid === undefined) {
    throw new KmipOperationError('InvalidField', `${reader.path}/UniqueIdentifier is required here: this server keeps no ID Placeholder between batch items`);
  }
  return uid;
}

export async function describeObject(ctx: KmipOperationContext, uniqueIdentifier: string): Promise<ObjectView> {
  return (await ctx.call('GetAttributes', { instance: uniqueIdentifier })) as ObjectView;
}
