/**
 * The standard KMIP attributes the appliance does not model natively but
 * keeps for clients, to set and read back (docs/kmip.md §3.5): Alternative
 * Name, Application Specific Information, Object Group and Cryptographic
 * Parameters. Each is kept as one of the key's custom attributes under the
 * reserved name `kmip.<Tag>` (2.x tag spelling: `kmip.AlternativeName`),
 * whose value is the KMIP JSON encoding (kmip-json.ts) of the list of the
 * attribute's values: `[{"tag":"ObjectGroup","type":"TextString","value":"g"}]`.
 * So they are authenticated by the key's row MAC like every custom
 * attribute, are the key's (every instance of the key shares them), and are
 * changed only through the native Create, Register and SetCustomAttributes
 * (`modify-attributes`), which the dispatcher audits.
 *
 * Values are checked for their KMIP shape when a client sends them and
 * again when they are read back: a `kmip.` value someone wrote natively that
 * does not decode is reported as absent, and refused by name when a KMIP
 * change would have to build on it. Contact Information is not kept here: it
 * is the key's owner. Pure.
 */
import type { KeyView } from '../../../domain/view-types';
import { MAX_ATTRIBUTE_VALUE } from '../../../domain/vocabulary/key-metadata-limits';
import { enumerationOfTag, tagName } from '../dictionary';
import { KmipCodecError } from '../kmip-codec-error';
import { jsonToNode, nodeToJson } from '../kmip-json';
import { tagNumberOf } from '../kmip-message-fields';
import { TtlvNode } from '../ttlv';
import { KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

/** The prefix of the native custom attributes that hold kept KMIP attributes; not a name a KMIP client's `x-` attribute may take. */
export const KEPT_PREFIX = 'kmip.';

/** The attributes kept, by tag (2.x spelling). KMIP 1.4 allows several values of each (§3: "Multiple instances permitted: Yes"). */
export const KEPT_TAGS = ['AlternativeName', 'ApplicationSpecificInformation', 'CryptographicParameters', 'ObjectGroup'] as const;
export type KeptTag = (typeof KEPT_TAGS)[number];

export const isKeptTag = (tag: string): tag is KeptTag => (KEPT_TAGS as readonly string[]).includes(tag);

/** The native custom attribute that keeps `tag`: `kmip.ObjectGroup`. */
export const keptName = (tag: KeptTag): string => KEPT_PREFIX + tag;

/** Whether a native custom attribute name is reserved for a kept KMIP attribute (then it is not a client's `x-` attribute). */
export const isKeptName = (nativeName: string): boolean => nativeName.startsWith(KEPT_PREFIX);

/** The fields of Cryptographic Parameters (KMIP 2.1 §7.6) and their item types; an Enumeration is checked against its enumeration. */
const CRYPTOGRAPHIC_PARAMETER_FIELDS: Readonly<Record<string, TtlvNode['type']>> = {
  BlockCipherMode: 'Enumeration',
  PaddingMethod: 'Enumeration',
  HashingAlgorithm: 'Enumeration',
  KeyRoleType: 'Enumeration',
  DigitalSignatureAlgorithm: 'Enumeration',
  CryptographicAlgorithm: 'Enumeration',
  RandomIV: 'Boolean',
  IVLength: 'Integer',
  TagLength: 'Integer',
  FixedFieldLength: 'Integer',
  InvocationFieldLength: 'Integer',
  CounterLength: 'Integer',
  InitialCounterValue: 'Integer',
  SaltLength: 'Integer',
  MaskGenerator: 'Enumeration',
  MaskGeneratorHashingAlgorithm: 'Enumeration',
  PSource: 'ByteString',
  TrailerField: 'Integer',
};

const label = (tag: KeptTag): string => tag.replace(/([a-z])([A-Z])/g, '$1 $2');

function checkCryptographicParameters(reader: PayloadReader): void {
  const seen = new Set<number>();
  for (const child of reader.children) {
    const name = tagName(child.tag);
    const type = name === undefined ? undefined : CRYPTOGRAPHIC_PARAMETER_FIELDS[name];
    if (name === undefined || type === undefined) throw new KmipOperationError('InvalidField', `${reader.path}/${name ?? `0x${child.tag.toString(16)}`} is not a Cryptographic Parameters field`);
    if (seen.has(child.tag)) throw new KmipOperationError('InvalidField', `${reader.path}/${name} appears more than once`);
    seen.add(child.tag);
    if (child.type !== type) throw new KmipOperationError('InvalidField', `${reader.path}/${name} must be a ${type}, not a ${child.type}`);
    if (type === 'Enumeration' && enumerationOfTag(child.tag)?.byValue.has(child.value as number) !== true) {
      throw new KmipOperationError('InvalidField', `${reader.path}/${name} has a value KMIP does not define`);
    }
  }
}

/**
 * One value of a kept attribute as a client sent it, checked for its KMIP
 * shape and tagged with the attribute's own tag (a 1.x value comes as an
 * Attribute Value item). Invalid Field names what is wrong.
 */
export function keptValue(tag: KeptTag, value: TtlvNode): TtlvNode {
  const node: TtlvNode = { ...value, tag: tagNumberOf(tag) } as TtlvNode;
  if (tag === 'ObjectGroup') {
    if (node.type !== 'TextString' || node.value === '') throw new KmipOperationError('InvalidField', 'Object Group must be a non-empty Text String');
    return node;
  }
  const reader = new PayloadReader(node, label(tag));
  if (tag === 'AlternativeName') {
    reader.requiredText('AlternativeNameValue');
    if (reader.enumName('AlternativeNameType') === undefined) throw new KmipOperationError('InvalidField', 'Alternative Name/AlternativeNameType is required');
    reader.rejectOthers();
  } else if (tag === 'ApplicationSpecificInformation') {
    reader.requiredText('ApplicationNamespace');
    reader.text('ApplicationData'); // required in 1.x, optional in 2.x (the server may fill it in; this one keeps what it is given)
    reader.rejectOthers();
  } else {
    checkCryptographicParameters(reader);
  }
  return node;
}

/**
 * The native custom attribute value keeping `values` (null: none left, the
 * attribute is removed). Refused with Invalid Field when the encoding does
 * not fit a custom attribute value (MAX_ATTRIBUTE_VALUE characters).
 */
export function encodeKeptValues(tag: KeptTag, values: readonly TtlvNode[]): string | null {
  if (values.length === 0) return null;
  const text = JSON.stringify(values.map((value) => nodeToJson(value)));
  if (text.length > MAX_ATTRIBUTE_VALUE) {
    throw new KmipOperationError('InvalidField', `${label(tag)}: the values given take ${text.length} characters once encoded; a key keeps at most ${MAX_ATTRIBUTE_VALUE} per attribute`);
  }
  return text;
}

/** What a key keeps of one attribute: its values, or why the stored value is not one (it was written natively and does not decode). */
export type KeptValues = { readonly ok: true; readonly values: TtlvNode[] } | { readonly ok: false; readonly why: string };

/** Decodes a kept attribute's stored text: a JSON array of items of the attribute's tag, each of its KMIP shape. */
export function decodeKeptValues(tag: KeptTag, text: string): KeptValues {
  const why = (detail: string): KeptValues => ({ ok: false, why: `the key's ${keptName(tag)} custom attribute is not a KMIP JSON list of ${label(tag)} values (${detail})` });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return why('not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return why('not a non-empty array');
  const values: TtlvNode[] = [];
  for (const item of parsed) {
    try {
      const node = jsonToNode(item, []);
      if (node.tag !== tagNumberOf(tag)) return why(`an item tagged ${tagName(node.tag) ?? 'unknown'}`);
      values.push(keptValue(tag, node));
    } catch (err) {
      if (err instanceof KmipCodecError || err instanceof KmipOperationError) return why(err.message);
      throw err;
    }
  }
  return { ok: true, values };
}

/** A key's values of one kept attribute (none when it has none). */
export function readKeptValues(customAttributes: Readonly<Record<string, string>>, tag: KeptTag): KeptValues {
  const name = keptName(tag);
  if (!Object.prototype.hasOwnProperty.call(customAttributes, name)) return { ok: true, values: [] };
  return decodeKeptValues(tag, customAttributes[name]);
}

/** Every kept attribute value of a key, by tag in KEPT_TAGS order; one that does not decode is left out (absent, never a failed request). */
export function keptAttributeValues(customAttributes: Readonly<Record<string, string>>): Array<{ tag: KeptTag; value: TtlvNode }> {
  return KEPT_TAGS.flatMap((tag) => {
    const kept = readKeptValues(customAttributes, tag);
    return kept.ok ? kept.values.map((value) => ({ tag, value })) : [];
  });
}

/**
 * The key's default Cryptographic Parameters (its first kept value), for
 * operations whose request names none (Encrypt, Decrypt, MAC); undefined
 * when the key keeps none or what it keeps does not decode.
 */
export function cryptographicParametersOf(object: { readonly key: KeyView } | KeyView): TtlvNode | undefined {
  const key = 'key' in object ? object.key : object;
  const kept = readKeptValues(key.customAttributes, 'CryptographicParameters');
  return kept.ok ? kept.values[0] : undefined;
}

/** One value's KMIP JSON text, as it appears inside the kept list. */
export const keptValueText = (value: TtlvNode): string => JSON.stringify(nodeToJson(value));

/** Whether two values of one attribute are the same value (same items, same order): compared by their JSON encoding. */
export function sameKeptValue(a: TtlvNode, b: TtlvNode): boolean {
  return keptValueText(a) === keptValueText(b);
}

/**
 * What native Locate is asked to narrow a search for keys holding `value`
 * (its `attributes` filter, a glob on the kept list's text): the value's
 * JSON anywhere in the list. A `"` inside a JSON string is escaped, so the
 * text can only match the value itself (or, through a `*` in the value,
 * more: the caller checks each key it answers with keptLocateCheck). Null
 * when the value is too long for any key to keep it.
 */
export function keptLocatePattern(value: TtlvNode): string | null {
  const pattern = `*${keptValueText(value)}*`;
  return pattern.length > MAX_ATTRIBUTE_VALUE ? null : pattern;
}

/** Whether a key keeps `value` among the values of `tag` (a value that does not decode holds none). */
export function keepsValue(customAttributes: Readonly<Record<string, string>>, tag: KeptTag, value: TtlvNode): boolean {
  const kept = readKeptValues(customAttributes, tag);
  return kept.ok && kept.values.some((held) => sameKeptValue(held, value));
}

/**
 * Refuses a client's custom attribute named `x-kmip.…` (2.x: vendor `x`,
 * name `kmip.…`): those native names keep the standard attributes above,
 * which a client sets as themselves, so its custom-attribute path may not
 * write or read them under another name.
 */
export function refuseReservedCustomName(kmipName: string, path: string): void {
  if (kmipName.startsWith(`x-${KEPT_PREFIX}`)) {
    throw new KmipOperationError('InvalidField', `${path}: custom attribute ${JSON.stringify(kmipName.slice(0, 80))} is reserved: native ${KEPT_PREFIX}… attributes keep ${KEPT_TAGS.map(label).join(', ')}; send those as themselves`);
  }
}
