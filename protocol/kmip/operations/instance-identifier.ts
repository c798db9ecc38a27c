/**
 * The Unique Identifier of a KMIP object is the name of an appliance
 * instance (docs/kmip.md §3): what native operations take as `{instance}`.
 * Read from a Request Payload, and written back into the Response Payload
 * the lifecycle operations answer, from the instance view their native
 * result carries. Pure.
 */
import { TtlvNode } from '../ttlv';
import { KmipOperationError } from './kmip-operation';
import { PayloadReader, responsePayload, textItem } from './payload';

/**
 * The instance a request names. KMIP lets a client omit the Unique
 * Identifier and mean the ID Placeholder (the object an earlier item of the
 * batch made); this server keeps no state between items, so it asks for it.
 */
export function instanceNamed(reader: PayloadReader): string {
  if (reader.optional('UniqueIdentifier') === undefined) {
    throw new KmipOperationError('FeatureNotSupported', `${reader.path}/UniqueIdentifier is required here: the ID Placeholder (an earlier batch item's object) is not kept; name the object`);
  }
  return reader.requiredText('UniqueIdentifier');
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
