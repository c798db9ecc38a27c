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

/** `digest`: ask for the material's digest too (the keychain opens the material for it: only when it is to be reported). */
export async function describeObject(ctx: KmipOperationContext, uniqueIdentifier: string, digest = false): Promise<ObjectView> {
  return (await ctx.call('GetAttributes', digest ? { instance: uniqueIdentifier, digest } : { instance: uniqueIdentifier })) as ObjectView;
}
