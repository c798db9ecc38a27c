/**
 * The managed object a request's Unique Identifier names (an instance
 * name), described through the native GetAttributes: the caller needs
 * `get-attributes` on its key, and the audit event names the key and the
 * instance. An unknown instance is Item Not Found for an officer and
 * Permission Denied for anyone else (the native rule: probing an instance
 * name reveals nothing to a client that could not read it).
 */
import { ObjectView } from './attribute-views';
import { KmipOperationContext } from './kmip-operation';

export async function describeObject(ctx: KmipOperationContext, uniqueIdentifier: string): Promise<ObjectView> {
  return (await ctx.call('GetAttributes', { instance: uniqueIdentifier })) as ObjectView;
}
