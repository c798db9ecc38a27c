/**
 * Get (KMIP 2.1 §6.1.22, 1.4 §4.11): an instance's material, through the
 * native Get by instance (the Unique Identifier is the instance's name), so
 * that access, dual control and audit are the native wire's: an officer
 * without a grant gets Operation Pending (a key-export approval request),
 * the audit names key and instance. Symmetric Keys come as Raw (the
 * default) or Transparent Symmetric Key, Secret Data as Opaque (the
 * default) or Raw — each, when none is asked, in the format it was
 * registered in (registered-format.ts). With a Key Wrapping Specification
 * it is the native wrapped export (wrapped-get.ts). An officer's export,
 * and every wrapped one, once approved, is answered through Poll
 * (`nativeResult`, `moreNativeResults`).
 */
import { asStrongroomError } from '../../../common/errors';
import { RetrievedKey } from '../../../domain/views';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { checkFormat, managedObject, objectTypeOf, SERVED_FORMATS } from './key-objects';
import { instanceNamed } from './instance-identifier';
import { registeredFormatOf } from './registered-format';
import { KEPT_KEY_FORMATS, keptManagedObject, keptObjectTypeOf } from './kept-objects';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { enumItem, PayloadReader, responsePayload, textItem } from './payload';
import { readKeyWrappingSpecification, wrappedGet, wrappedGetResult } from './wrapped-get';

const ANY_SERVED_FORMAT = new Set([...Object.values(SERVED_FORMATS).flat(), ...Object.values(KEPT_KEY_FORMATS).flat()]);

export const get: KmipOperation = {
  operation: 'Get',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const uid = instanceNamed(reader, ctx);
    const format = reader.enumName('KeyFormatType');
    reader.enumName('KeyWrapType'); // Not Wrapped and As Registered are the same here: nothing is stored wrapped
    if (reader.optional('KeyCompressionType') !== undefined) throw new KmipOperationError('KeyCompressionTypeNotSupported', 'Key Compression Type applies to elliptic-curve keys only');
    const wrappingSpec = reader.structure('KeyWrappingSpecification');
    const wrapping = wrappingSpec === undefined ? null : readKeyWrappingSpecification(wrappingSpec);
    reader.rejectOthers();
    // A wrapped Get is the native wrapped export (wrapped-get.ts): Operation Pending, answered through Poll.
    if (wrapping !== null) return wrappedGet(uid, format, wrapping.wrapInstance, ctx);
    // Refused before the material is fetched when no object type is served in that format.
    if (format !== undefined && !ANY_SERVED_FORMAT.has(format)) checkFormat('SymmetricKey', format);
    let got: RetrievedKey;
    try {
      got = (await ctx.call('Get', { instance: uid })) as RetrievedKey;
    } catch (err) {
      throw lifecycleRefusal(err, ctx.version);
    }
    return answer(got, format);
  },
  // An officer's export, held for approval, is answered through Poll with the live result of ApprovalCollect: the default format.
  nativeResult: { operation: 'Get', toPayload: (result) => answer(result as RetrievedKey, undefined) },
  moreNativeResults: [wrappedGetResult],
};

/** The Response Payload for a native Get's result, in `format` (the object's default when absent). */
function answer(got: RetrievedKey, format: string | undefined): TtlvNode {
  const kept = keptObjectTypeOf(got.key.algorithm);
  if (kept !== null) return keptAnswer(got, kept, format);
  try {
    const objectType = objectTypeOf(got.key.algorithm);
    // As registered when the client names no format (registered-format.ts), else the object type's default.
    const served = format ?? registeredFormatOf(objectType, got.key.customAttributes) ?? SERVED_FORMATS[objectType][0];
    checkFormat(objectType, served);
    return responsePayload([enumItem('ObjectType', objectType), textItem('UniqueIdentifier', got.instance.name), managedObject(got.key.algorithm, got.material, served)]);
  } catch (err) {
    // Not answered: nothing else will zero it (the transport wipes the response it sends).
    got.material.fill(0);
    throw err;
  }
}

/** A kept object's answer (kept-objects.ts); a converted format's bytes replace the material, which is then zeroed here. */
function keptAnswer(got: RetrievedKey, objectType: string, format: string | undefined): TtlvNode {
  try {
    const { object, converted } = keptManagedObject(got.key, got.material, format);
    if (converted) got.material.fill(0);
    return responsePayload([enumItem('ObjectType', objectType), textItem('UniqueIdentifier', got.instance.name), object]);
  } catch (err) {
    got.material.fill(0);
    throw err;
  }
}

/**
 * KMIP's own words for an instance whose material is not served: destroyed
 * (2.x has Object Destroyed), or PreActive should the appliance's rule
 * (domain/instance-states.ts, which serves PreActive material today) ever
 * withhold it again. Other refusals pass as they are.
 */
function lifecycleRefusal(err: unknown, version: ProtocolVersion): unknown {
  const error = asStrongroomError(err);
  if (error.code !== 'NO_MATERIAL') return err;
  const state = error.details.state;
  if (state === 'PreActive') {
    return new KmipOperationError(version.major >= 2 ? 'WrongKeyLifecycleState' : 'IllegalOperation', `${error.code}: ${error.message}: Activate it first`);
  }
  if (version.major >= 2 && (state === 'Destroyed' || state === 'DestroyedCompromised')) return new KmipOperationError('ObjectDestroyed', `${error.code}: ${error.message}`);
  return err;
}
