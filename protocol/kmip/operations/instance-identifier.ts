/**
 * The Unique Identifier of a KMIP object is the name of an appliance
 * instance (docs/kmip.md §3): what native operations take as `{instance}`.
 * Read from a Request Payload, and written back into the Response Payload
 * the lifecycle operations answer, from the instance view their native
 * result carries. Pure.
 */
import { TtlvNode } from '../ttlv';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';
import { PayloadReader, responsePayload, textItem } from './payload';

/**
 * The instance a request names. KMIP lets a client omit the Unique
 * Identifier and mean the ID Placeholder: the object an earlier item of the
 * same request message answered (id-placeholder.ts). With none set, nothing
 * is named, and the item fails as for an unknown object (Item Not Found, as
 * PyKMIP's server answers and the specification's Locate text intends:
 * items batched after an ambiguous Locate fail).
 */
export function instanceNamed(reader: PayloadReader, ctx: Pick<KmipOperationContext, 'idPlaceholder'>): string {
  if (reader.optional('UniqueIdentifier') !== undefined) return reader.requiredText('UniqueIdentifier');
  if (ctx.idPlaceholder === undefined) {
    throw new KmipOperationError('ItemNotFound', `${reader.path}/UniqueIdentifier is omitted and no earlier item of this batch set the ID Placeholder: name the object, or batch this item after the one that makes or finds it`);
  }
  return ctx.idPlaceholder;
}

/** The instance name in a native lifecycle result (`{ instance: InstanceView }`, live or as stored with an approval request). */
export function instanceOfResult(result: unknown): string {
  const name = (result as { instance?: { name?: unknown } } | null)?.instance?.name;
  if (typeof name !== 'string') throw new Error('the native result names no instance');
  return name;
}

/** The Response Payload of Activate, Revoke and Destroy: the object's Unique Identifier. */
export function uniqueIdentifierPayload(result: unknown): TtlvNode {
  return responsePayload([textItem('UniqueIdentifier', instanceOfResult(result))]);
}
