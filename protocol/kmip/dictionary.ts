/**
 * The KMIP dictionary: tag names ↔ numbers, enumeration and mask names ↔
 * values, and which enumeration or mask a tag's values come from. The data
 * is generated from the specifications (dictionary/*.ts, by
 * scripts/kmip/gen-dictionary.py); this module indexes it once into read-only
 * maps. Names are normalized as the KMIP XML and JSON encodings spell them
 * (e.g. "Pre-Active" → PreActive, "X.509" → X_509, "3DES" → DES3).
 */
import { KMIP_ENUMERATIONS_1 } from './dictionary/enumerations-1';
import { KMIP_ENUMERATIONS_2 } from './dictionary/enumerations-2';
import { KMIP_MASKS } from './dictionary/masks';
import { KMIP_TAGS_1 } from './dictionary/tags-1';
import { TtlvNode } from './ttlv';

/** Names ↔ values of one enumeration, mask or the tag table. */
export interface ValueTable {
  readonly name: string;
  readonly byName: ReadonlyMap<string, number>;
  readonly byValue: ReadonlyMap<number, string>;
}

function table(name: string, entries: ReadonlyArray<readonly [number, string]>): ValueTable {
  const byName = new Map<string, number>();
  const byValue = new Map<number, string>();
  for (const [value, entryName] of entries) {
    if (!byName.has(entryName)) byName.set(entryName, value);
    if (!byValue.has(value)) byValue.set(value, entryName);
  }
  return { name, byName, byValue };
}

/** Every tag KMIP 1.0 to 2.1 defines. */
export const KMIP_TAGS: ValueTable = table('Tag', KMIP_TAGS_1);

const ENUMERATIONS: ReadonlyMap<string, ValueTable> = new Map(
  [...Object.entries(KMIP_ENUMERATIONS_1), ...Object.entries(KMIP_ENUMERATIONS_2)]
    .map(([name, entries]) => [name, table(name, entries)] as const)
    .concat([['Tag', KMIP_TAGS]]),
);

const MASKS: ReadonlyMap<string, ValueTable> = new Map(Object.entries(KMIP_MASKS).map(([name, entries]) => [name, table(name, entries)]));

/** Tags whose Enumeration values come from an enumeration not named after the tag. */
const ENUMERATION_OF_TAG: Readonly<Record<string, string>> = {
  AttributeReference: 'Tag',
  ExtensionType: 'ItemType',
  MaskGeneratorHashingAlgorithm: 'HashingAlgorithm',
  DigestHashingAlgorithm: 'HashingAlgorithm',
};

/** The number of a tag name, e.g. tagNumber('BatchCount') === 0x42000d. */
export function tagNumber(name: string): number | undefined {
  return KMIP_TAGS.byName.get(name);
}

/** The name of a tag number, if the dictionary knows it. */
export function tagName(tag: number): string | undefined {
  return KMIP_TAGS.byValue.get(tag);
}

/** The enumeration by its normalized name ('ObjectType', 'ResultReason', 'Tag', …). */
export function enumeration(name: string): ValueTable | undefined {
  return ENUMERATIONS.get(name);
}

/** The mask by its normalized name ('CryptographicUsageMask', …). */
export function mask(name: string): ValueTable | undefined {
  return MASKS.get(name);
}

/** The enumeration an Enumeration item of this tag takes its values from. */
export function enumerationOfTag(tag: number): ValueTable | undefined {
  const name = tagName(tag);
  return name === undefined ? undefined : ENUMERATIONS.get(ENUMERATION_OF_TAG[name] ?? name);
}

/** The mask an Integer item of this tag is made of, if it is a mask. */
export function maskOfTag(tag: number): ValueTable | undefined {
  const name = tagName(tag);
  return name === undefined ? undefined : MASKS.get(name);
}

const ATTRIBUTE_NAME = 0x42000a;
const ATTRIBUTE_VALUE = 0x42000b;

/**
 * The tag whose vocabulary an item's values use. An Attribute Value (KMIP 1.x
 * §2.1.1) takes the vocabulary of the attribute its sibling Attribute Name
 * names ("Cryptographic Algorithm" → CryptographicAlgorithm); every other
 * item uses its own tag. The first `count` of `siblings` are the items before
 * it in its structure.
 */
export function vocabularyTag(tag: number, siblings: readonly TtlvNode[], count: number = siblings.length): number {
  if (tag !== ATTRIBUTE_VALUE) return tag;
  for (let i = count - 1; i >= 0; i--) {
    const sibling = siblings[i];
    if (sibling.tag === ATTRIBUTE_NAME && sibling.type === 'TextString') return tagNumber(normalizeKmipName(sibling.value)) ?? tag;
  }
  return tag;
}

/**
 * A specification name in the form the XML and JSON encodings use: brackets
 * become spaces; a non-word character before a letter and a lower-case
 * letter becomes a space; other non-word characters become "_"; the digits
 * starting the first word move to its end; words are capitalized and joined.
 *
 * @example normalizeKmipName('Cryptographic Usage Mask') // 'CryptographicUsageMask'
 * @example normalizeKmipName('X.509') // 'X_509'
 */
export function normalizeKmipName(text: string): string {
  const spaced = text
    .replace(/[()]/g, ' ')
    .replace(/[^\w\s](?=[A-Za-z][a-z])/g, ' ')
    .replace(/[^\w\s]/g, '_');
  const words = spaced.split(/\s+/).filter((word) => word.length > 0);
  if (words.length === 0) return '';
  const leadingDigits = /^(\d+)(.+)$/.exec(words[0]);
  if (leadingDigits) words[0] = leadingDigits[2] + leadingDigits[1];
  return words.map((word) => word[0].toUpperCase() + word.slice(1)).join('');
}
