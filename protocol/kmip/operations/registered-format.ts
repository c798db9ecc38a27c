/**
 * The Key Format Type a Symmetric Key or Secret Data was registered in,
 * which Get answers when the client names none (KMIP 2.1 §6.1.22: the key is
 * returned as registered unless a format is asked; the OASIS cases
 * BL-M-3-21 and BL-M-4-21 register a Transparent Symmetric Key and a Raw
 * Secret Data and get them back so). The appliance keeps bare
 * material, so the format is only how it is written: it is kept as the
 * key's reserved custom attribute `kmip.KeyFormatType` (authenticated by
 * the key's row MAC like the kept attributes, kept-attributes.ts), holding
 * the KMIP JSON encoding of the list of its one value, and only when it is
 * not the object type's default (key-objects.ts SERVED_FORMATS). Clients do not set it (KMIP: not modifiable by the
 * client); the native `kmip.` names are not theirs to write (custom-values.ts).
 * A value that does not decode to a format Get serves is ignored: Get
 * answers the default. Pure.
 */
import { nodeToJson } from '../kmip-json';
import { KEPT_PREFIX } from './kept-attributes';
import { SERVED_FORMATS } from './key-objects';
import { enumItem } from './payload';

export const REGISTERED_FORMAT_NAME = `${KEPT_PREFIX}KeyFormatType`;

type ObjectType = keyof typeof SERVED_FORMATS;

/** The custom attribute to keep for an object registered in `format`: none for its type's default. */
export function registeredFormatAttribute(objectType: ObjectType, format: string): Record<string, string> {
  if (format === SERVED_FORMATS[objectType][0]) return {};
  return { [REGISTERED_FORMAT_NAME]: JSON.stringify([nodeToJson(enumItem('KeyFormatType', format))]) };
}

/** The format an object was registered in, if kept and one Get serves for its type; undefined: the default. */
export function registeredFormatOf(objectType: ObjectType, customAttributes: Readonly<Record<string, string>>): string | undefined {
  const kept = customAttributes[REGISTERED_FORMAT_NAME];
  if (kept === undefined) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(kept);
  } catch {
    return undefined; // not what Register wrote: the default serves
  }
  const item = Array.isArray(values) && values.length === 1 ? (values[0] as { tag?: unknown; type?: unknown; value?: unknown }) : undefined;
  if (item?.tag !== 'KeyFormatType' || item.type !== 'Enumeration' || typeof item.value !== 'string') return undefined;
  return SERVED_FORMATS[objectType].includes(item.value) ? item.value : undefined;
}
