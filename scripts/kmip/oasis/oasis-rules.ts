/**
 * What "the same answer" means when a server's reply is held against the
 * reference answer of an OASIS case: each relaxation here is a value the
 * KMIP specification leaves to the server, named and explained, so that
 * everything else is compared exactly (oasis-compare.ts applies them).
 */
import { tagNumber } from '../../../protocol/kmip/dictionary';

function tags(...names: string[]): ReadonlySet<number> {
  return new Set(names.map((name) => {
    const tag = tagNumber(name);
    if (tag === undefined) throw new Error(`${name} is not a KMIP tag`);
    return tag;
  }));
}

export const tag = (name: string): number => [...tags(name)][0];

/**
 * Never compared, on either side: a Result Message is free text for people
 * (the reference server writes its own codes there, `NOT_SAFE`,
 * `TOO_LARGE`; the appliance `CODE: message`), and a Server Correlation
 * Value is whatever the server picks to find a request in its logs (the
 * reference answers of the BL cases carry theirs). The Result Status and
 * Result Reason beside a message are compared.
 */
export const IGNORED_TAGS = tags('ResultMessage', 'ServerCorrelationValue');

/** Compared only when the expected answer has it: a server may echo the client's correlation value. */
export const OPTIONAL_TAGS = tags('ClientCorrelationValue');

/**
 * Siblings that form a set, matched whatever their order: the attributes of
 * an object (2.x `Attributes`; 1.x `Attribute` items) and the names a
 * Get Attribute List returns. KMIP does not order them; everything else is
 * compared in order.
 */
export const SET_PARENT_TAGS = tags('Attributes');
export const SET_ITEM_TAGS = tags('Attribute', 'AttributeName', 'AttributeReference');

/**
 * 1.x attributes a reference answer may lack though the server gives them:
 * KMIP 1.4 §4.12 has Get Attributes without an Attribute Name return every
 * attribute of the object, but the reference answer of TL-M-3-14 leaves out
 * the four 1.4 flags of the material, Sensitive, Always Sensitive,
 * Extractable and Never Extractable, though the Get Attribute List of the
 * same case, one step before, lists them for the same object, and the
 * reference's own Get Attributes in SKLC-O-1-14 returns them. Only their
 * presence is forgiven: where a reference answer has them, they are
 * compared like any attribute.
 */
export const ATTRIBUTES_A_REFERENCE_MAY_OMIT: ReadonlySet<string> = new Set(['Sensitive', 'Always Sensitive', 'Extractable', 'Never Extractable']);

/**
 * Operations whose successful answer describes the server itself: Query
 * lists the operations and object types *this* server serves and its own
 * vendor information. Its payload is compared by which kinds of item it
 * answers (the Query Functions honoured), not by the reference server's
 * lists.
 */
export const SERVER_DESCRIBING_OPERATIONS: ReadonlySet<string> = new Set(['Query']);
/**
 * Kinds of item a server-describing answer may leave out though the
 * reference server gave them: Server Information is vendor-specific and a
 * server MAY return it (KMIP 1.4 §4.25, 2.1 §6.1.37); Vendor
 * Identification, which it SHALL return, is still required.
 */
export const OPTIONAL_SERVER_KINDS = tags('ServerInformation');

/**
 * Attributes that describe the server rather than the object: a Random
 * Number Generator names the generator the server draws key material from
 * (the reference server's is ANSI X9.31; this appliance's is OpenSSL's SP
 * 800-90A CTR_DRBG). Compared by being RNG Parameters (an RNG Algorithm
 * given), not by the reference server's generator: as Query's lists, it is
 * each server's own truth. 1.x names it in the Attribute Name beside it.
 */
export const SERVER_DESCRIBING_ATTRIBUTES = tags('RandomNumberGenerator');
export const SERVER_DESCRIBING_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(['Random Number Generator']);
/** What a server-describing attribute must hold to be one. */
export const SERVER_DESCRIBING_REQUIRED = tags('RNGAlgorithm');

/**
 * Operations that make key material: the objects they return have random
 * bytes, so what is derived from them is random too (below).
 */
export const GENERATING_OPERATIONS: ReadonlySet<string> = new Set(['Create', 'CreateKeyPair', 'ReKey', 'ReKeyKeyPair', 'DeriveKey', 'CreateSplitKey']);

/** The tags that carry the Unique Identifier of an object in a response. */
export const IDENTIFIER_TAGS = tags('UniqueIdentifier', 'PrivateKeyUniqueIdentifier', 'PublicKeyUniqueIdentifier');

/**
 * Byte Strings that depend on generated key material (the key bytes, their
 * digest, cipher text, MACs, signatures, tags) or that are random by nature
 * (Random Number Generator output, an IV the server picks): compared by
 * length only, in answers to a batch item that uses a generated object, or
 * to an operation whose output is random.
 */
export const RANDOM_BYTE_TAGS = tags('KeyMaterial', 'KeyValue', 'DigestValue', 'Data', 'IVCounterNonce', 'MACData', 'SignatureData', 'AuthenticatedEncryptionTag');
export const RANDOM_OUTPUT_OPERATIONS: ReadonlySet<string> = new Set(['RNGRetrieve']);

/**
 * Operations whose answer carries an IV Counter Nonce only when the server
 * chose it (KMIP 2.1 §6.1.18, 1.4 §4.29: Random IV, or none given): then
 * the IV is the server's pick and the cipher text and tag derived from it
 * are random by nature too, compared by length (the 1.4 edition of
 * CS-BC-M-13 shows one server's random IV; the 2.1 edition binds both).
 */
export const SERVER_IV_OPERATIONS: ReadonlySet<string> = new Set(['Encrypt']);
export const SERVER_IV_TAG = tag('IVCounterNonce');
