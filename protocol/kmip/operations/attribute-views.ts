/**
 * The KMIP attributes of one managed object, from the appliance's views
 * (docs/kmip.md §3.4): a KMIP object is a key *instance*; its Unique
 * Identifier is the instance name, its Name the key's full name. What the
 * appliance keeps is reported; nothing is invented. What is said of the
 * material (Digest, Random Number Generator, Sensitive, Extractable) is
 * material-attributes.ts; how it is served and kept (Fresh, Lease Time, Key
 * Format Type, Protection Storage Mask), served-attributes.ts; what Revoke recorded (Revocation Reason,
 * Compromise Date…) and Original Creation Date, revocation-attributes.ts.
 * Custom attributes are the key's: native `team` is KMIP `x-team` (1.x) or
 * Vendor Identification `x`, Attribute Name `team` (2.x). Encoded in the
 * request's version: 1.x Attribute {Attribute Name, Attribute Index?,
 * Attribute Value}, 2.x the attribute's own tag in an Attributes structure.
 * Pure.
 */
import { DEFAULT_NAMESPACE } from '../../../domain/key-names';
import type { InstanceView, KeyView } from '../../../domain/view-types';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { isServerMadeName } from './key-args';
import { CERTIFICATE_TAGS, certificateAttributes, keptCryptoAttributes, keptObjectTypeOf } from './kept-objects';
import { enumItem, integerItem, isoDateItem, item, structureItem, textItem } from './payload';
import { isKeptName, keptAttributeValues } from './kept-attributes';
import { CustomValue, typedCustomValues } from './custom-values';
import { materialAttributes, MaterialView } from './material-attributes';
import { servedAttributes } from './served-attributes';
import { deactivationDateOf, revocationAttributes } from './revocation-attributes';

/** The prefix of client-defined attribute names (KMIP 1.x §2.1.1), and the 2.x Vendor Identification that stands for it. */
export const CUSTOM_PREFIX = 'x-';
export const CUSTOM_VENDOR = 'x';

/**
 * The native name of a KMIP custom attribute: 1.x `x-NAME` (or 2.x vendor
 * `x`, name `NAME`) is native `NAME`, so one attribute has one name on each
 * wire and a native attribute (`team`) is KMIP `x-team`. Null for a name
 * that is not a client's custom attribute (`y-` names are the server's).
 * Create and Register over KMIP must store custom attributes by this name.
 */
export function nativeCustomName(kmipName: string): string | null {
  const native = kmipName.startsWith(CUSTOM_PREFIX) && kmipName.length > CUSTOM_PREFIX.length ? kmipName.slice(CUSTOM_PREFIX.length) : null;
  // `kmip.…` native names keep standard attributes (kept-attributes.ts): never a client's x- attribute.
  return native === null || isKeptName(native) ? null : native;
}

/** What native GetAttributes answers (operations/key-operations.ts): the object is `instance`. */
export interface ObjectView extends MaterialView {
  readonly key: KeyView;
  readonly instances: readonly InstanceView[];
  readonly instance: InstanceView;
}

/** One attribute value: a standard one by its tag name (2.x spelling), or a custom one by its native name. */
export type KmipAttribute =
  | { readonly kind: 'standard'; readonly tag: string; readonly value: TtlvNode }
  | { readonly kind: 'custom'; readonly name: string; readonly value: CustomValue };

/**
 * Every standard attribute this server reports, in the order GetAttributeList
 * lists them (the OASIS test cases' order: identity, then alphabetical).
 */
export const REPORTED_TAGS = [
  'UniqueIdentifier', 'ShortUniqueIdentifier', 'ObjectType', 'CryptographicAlgorithm', 'CryptographicLength', 'ActivationDate', 'AlwaysSensitive', 'CompromiseDate',
  'CompromiseOccurrenceDate', 'CryptographicUsageMask', 'DeactivationDate', 'Description', 'DestroyDate', 'Digest', 'KeyFormatType', 'Extractable', 'Fresh', 'InitialDate',
  'LastChangeDate', 'LeaseTime', 'Link', 'Name', 'NeverExtractable', 'OriginalCreationDate', 'ProcessStartDate', 'ProtectStopDate', 'RandomNumberGenerator', 'RevocationReason',
  'Sensitive', 'State',
  // 2.x lists it after State (the OASIS SKFF and TL cases).
  'ProtectionStorageMask',
  // A Certificate's (kept-objects.ts), in 2.x.
  ...CERTIFICATE_TAGS,
] as const;

/** KMIP Cryptographic Algorithm and Length (bits) of each appliance algorithm; SECRET (Secret Data) has neither. */
export const ALGORITHM_ATTRIBUTES: Readonly<Record<string, { algorithm: string; length: number } | undefined>> = {
  'AES-128': { algorithm: 'AES', length: 128 },
  'AES-192': { algorithm: 'AES', length: 192 },
  'AES-256': { algorithm: 'AES', length: 256 },
  // HMAC keys are generated at the hash's output length (or imported under dual control, at least that long).
  'HMAC-SHA256': { algorithm: 'HMAC_SHA256', length: 256 },
  'HMAC-SHA512': { algorithm: 'HMAC_SHA512', length: 512 },
  // Registered as ChaCha20 or ChaCha20Poly1305 alike: the key is a ChaCha20 key; Poly1305 is how Encrypt uses it.
  CHACHA20: { algorithm: 'ChaCha20', length: 256 },
};

export const objectTypeOf = (algorithm: string): string => keptObjectTypeOf(algorithm) ?? (algorithm === 'SECRET' ? 'SecretData' : 'SymmetricKey');

/** The 1.x Attribute Name of a tag: 'CryptographicUsageMask' → 'Cryptographic Usage Mask'. */
export const attributeNameOf = (tag: string): string => tag.replace(/([a-z])([A-Z])/g, '$1 $2');

/** A key's KMIP Name: its full name, without the default namespace a name without a slash is put in. */
export const kmipNameOf = (fullName: string): string => (fullName.startsWith(`${DEFAULT_NAMESPACE}/`) ? fullName.slice(DEFAULT_NAMESPACE.length + 1) : fullName);

/** Description is a KMIP 1.4 attribute: earlier 1.x clients would not know its name. */
const hasDescription = (version: ProtocolVersion): boolean => version.major > 1 || version.minor >= 4;

function latest(dates: ReadonlyArray<string | null>): string {
  return dates.filter((d): d is string => d !== null).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
}

/**
 * Links between the instances of one key, by version order: the previous
 * instance is the one this one replaced, the next one its replacement (what
 * ReKey makes).
 */
function links(instance: InstanceView, instances: readonly InstanceView[]): TtlvNode[] {
  const older = instances.filter((i) => i.version < instance.version).sort((a, b) => b.version - a.version)[0];
  const newer = instances.filter((i) => i.version > instance.version).sort((a, b) => a.version - b.version)[0];
  const link = (type: string, to: InstanceView): TtlvNode => structureItem('Link', [enumItem('LinkType', type), textItem('LinkedObjectIdentifier', to.name)]);
  return [newer === undefined ? undefined : link('ReplacementObjectLink', newer), older === undefined ? undefined : link('ReplacedObjectLink', older)].filter(
    (node): node is TtlvNode => node !== undefined,
  );
}

/** Every attribute of the object, standard ones in REPORTED_TAGS order, then the custom ones by name. */
export function objectAttributes(object: ObjectView, version: ProtocolVersion): KmipAttribute[] {
  const { key, instance } = object;
  const crypto = ALGORITHM_ATTRIBUTES[key.algorithm] ?? keptCryptoAttributes(key);
  const date = (tag: string, iso: string | null): TtlvNode | undefined => (iso === null ? undefined : isoDateItem(tag, iso));
  const values: Record<(typeof REPORTED_TAGS)[number], TtlvNode | TtlvNode[] | undefined> = {
    UniqueIdentifier: textItem('UniqueIdentifier', instance.name),
    ObjectType: enumItem('ObjectType', objectTypeOf(key.algorithm)),
    CryptographicAlgorithm: crypto === undefined ? undefined : enumItem('CryptographicAlgorithm', crypto.algorithm),
    CryptographicLength: crypto === undefined ? undefined : integerItem('CryptographicLength', crypto.length),
    // A PreActive instance's activation date is the one the server will activate it at.
    ActivationDate: date('ActivationDate', instance.activatedAt ?? instance.activatesAt),
    // The appliance's usage bits are KMIP's (domain/usage-mask.ts).
    CryptographicUsageMask: integerItem('CryptographicUsageMask', key.usageMask),
    // Deactivated already, or when its recipient usage period ends (processStopAt: then it is Deactivated; KMIP has no Process Stop Date); not a compromise's date.
    DeactivationDate: date('DeactivationDate', deactivationDateOf(instance)),
    Description: key.description === '' || !hasDescription(version) ? undefined : textItem('Description', key.description),
    DestroyDate: date('DestroyDate', instance.destroyedAt),
    InitialDate: date('InitialDate', instance.createdAt),
    LastChangeDate: date('LastChangeDate', latest([key.updatedAt, instance.createdAt, instance.activatedAt, instance.deactivatedAt, instance.destroyedAt, instance.compromisedAt])),
    Link: links(instance, object.instances),
    // An object registered or created without a Name has none in KMIP's terms (key-args.ts names it for grants and the trail).
    // A key of the default namespace reads back by its bare name, as a client named it (`X` is `default/X` on the way in; the OASIS TL cases read it back).
    Name: isServerMadeName(key.fullName) ? undefined : structureItem('Name', [textItem('NameValue', kmipNameOf(key.fullName)), enumItem('NameType', 'UninterpretedTextString')]),
    // The start of the recipient usage period its creator set (domain/usage-dates.ts): before it, it never decrypts.
    ProcessStartDate: date('ProcessStartDate', instance.processStartAt ?? null),
    // The end of the originator usage period: from then it only decrypts.
    ProtectStopDate: date('ProtectStopDate', instance.protectStopAt),
    State: enumItem('State', instance.state),
    ...materialAttributes(object, version),
    ...servedAttributes(object, objectTypeOf(key.algorithm), version),
    ...revocationAttributes(instance, version),
    ...(version.major >= 2 ? certificateAttributes(key) : {}),
  } as Record<(typeof REPORTED_TAGS)[number], TtlvNode | TtlvNode[] | undefined>;
  const standard: KmipAttribute[] = REPORTED_TAGS.flatMap((tag) => [values[tag]].flat().filter((v): v is TtlvNode => v !== undefined).map((value) => ({ kind: 'standard' as const, tag, value })));
  // The kept standard attributes (Alternative Name, Object Group, …) are the key's `kmip.` custom attributes, reported as themselves.
  const kept: KmipAttribute[] = keptAttributeValues(key.customAttributes).map(({ tag, value }) => ({ kind: 'standard' as const, tag, value }));
  const custom: KmipAttribute[] = Object.keys(key.customAttributes)
    .filter((name) => !isKeptName(name))
    .sort()
    .map((name) => ({ kind: 'custom' as const, name, value: key.customAttributes[name] as CustomValue }));
  // Custom values of other types than Text String (kept as `kmip.x-NAME`: custom-values.ts), by name after the text ones.
  const typed: KmipAttribute[] = typedCustomValues(key.customAttributes)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, value }) => ({ kind: 'custom' as const, name, value }));
  return [...standard, ...kept, ...custom, ...typed];
}

/** A custom attribute's Attribute Value item: its text, or its typed value. */
const customValueItem = (value: CustomValue): TtlvNode => (typeof value === 'string' ? textItem('AttributeValue', value) : item('AttributeValue', value.type, value.value));

/** The 1.x Attribute Name of an attribute. */
export const kmip1NameOf = (attribute: KmipAttribute): string => (attribute.kind === 'custom' ? CUSTOM_PREFIX + attribute.name : attributeNameOf(attribute.tag));

/**
 * 1.x: each attribute as Attribute {Attribute Name, Attribute Index (only
 * past the first value of a name), Attribute Value}; 2.x: as itself, a
 * custom one as Attribute {Vendor Identification, Attribute Name, Attribute
 * Value}.
 */
export function encodeAttributes(attributes: readonly KmipAttribute[], version: ProtocolVersion): TtlvNode[] {
  if (version.major >= 2) {
    return attributes.map((a) =>
      a.kind === 'standard' ? a.value : structureItem('Attribute', [textItem('VendorIdentification', CUSTOM_VENDOR), textItem('AttributeName', a.name), customValueItem(a.value)]),
    );
  }
  const seen = new Map<string, number>();
  return attributes.map((a) => {
    const name = kmip1NameOf(a);
    const index = seen.get(name) ?? 0;
    seen.set(name, index + 1);
    const value = a.kind === 'standard' ? item('AttributeValue', a.value.type, a.value.value) : customValueItem(a.value);
    return structureItem('Attribute', [textItem('AttributeName', name), index > 0 ? integerItem('AttributeIndex', index) : undefined, value]);
  });
}

/** GetAttributeList's names: 1.x Attribute Name texts, 2.x Attribute References (a tag, or a vendor's name), each name once. */
export function encodeAttributeNames(attributes: readonly KmipAttribute[], version: ProtocolVersion): TtlvNode[] {
  const names = [...new Map(attributes.map((a) => [kmip1NameOf(a), a])).values()];
  if (version.major < 2) return names.map((a) => textItem('AttributeName', kmip1NameOf(a)));
  return names.map((a) =>
    a.kind === 'standard'
      ? enumItem('AttributeReference', a.tag, 'Tag')
      : structureItem('AttributeReference', [textItem('VendorIdentification', CUSTOM_VENDOR), textItem('AttributeName', a.name)]),
  );
}
