/**
 * The values of a client's custom attributes (`x-NAME`; 2.x vendor `x`).
 * KMIP lets a custom attribute be of any type; the appliance's custom
 * attributes are text. So a Text String value is the native custom
 * attribute `NAME` (what the native wire reads and writes), and a value of
 * another primitive type (Integer, Date-Time, Boolean, … as the OASIS TL
 * cases send) is kept beside the kept standard attributes, as the native
 * custom attribute `kmip.x-NAME` holding the KMIP JSON of a one-item list
 * `[{"tag":"AttributeValue","type":"Integer","value":0}]` (kept-attributes.ts
 * reserves the `kmip.` names). One name has one value: writing one form
 * removes the other. A `kmip.x-` value that does not decode is reported as
 * absent. Pure.
 */
import { MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE } from '../../../domain/vocabulary/key-metadata-limits';
import { KmipCodecError } from '../kmip-codec-error';
import { jsonToNode, nodeToJson } from '../kmip-json';
import { tagNumberOf } from '../kmip-message-fields';
import { TtlvNode } from '../ttlv';
import { KEPT_PREFIX, sameKeptValue } from './kept-attributes';
import { KmipOperationError } from './kmip-operation';

/** A custom attribute's value: its text, or a typed value tagged Attribute Value. */
export type CustomValue = string | TtlvNode;

/** The native name keeping a typed value of custom attribute `name`. */
export const typedCustomName = (name: string): string => `${KEPT_PREFIX}x-${name}`;

const TYPED_PREFIX = typedCustomName('');

/** The custom name a native `kmip.x-NAME` keeps, or null for any other native name (and for `kmip.x-kmip.…`, which no client can name). */
export function customNameOfTyped(nativeName: string): string | null {
  const name = nativeName.startsWith(TYPED_PREFIX) ? nativeName.slice(TYPED_PREFIX.length) : '';
  return name === '' || name.startsWith(KEPT_PREFIX) ? null : name;
}

/** A value as sent, checked: a Text String is its text; another primitive is kept typed; a Structure is refused (Invalid Field). */
export function sentCustomValue(label: string, value: TtlvNode): CustomValue {
  if (value.type === 'TextString') return value.value;
  if (value.type === 'Structure') throw new KmipOperationError('InvalidField', `${label}: custom attribute values are Text Strings or other single values here, not Structures`);
  return { ...value, tag: tagNumberOf('AttributeValue') } as TtlvNode;
}

function decodeTyped(text: string): TtlvNode | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length !== 1) return undefined;
    const node = jsonToNode(parsed[0], []);
    return node.tag === tagNumberOf('AttributeValue') && node.type !== 'Structure' ? node : undefined;
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof KmipCodecError) return undefined;
    throw err;
  }
}

/** The value a key holds for custom attribute `name`, in either form; undefined when it has none (or the typed one does not decode). */
export function heldCustomValue(customAttributes: Readonly<Record<string, string>>, name: string): CustomValue | undefined {
  if (Object.prototype.hasOwnProperty.call(customAttributes, name)) return customAttributes[name];
  const typed = typedCustomName(name);
  return Object.prototype.hasOwnProperty.call(customAttributes, typed) ? decodeTyped(customAttributes[typed]) : undefined;
}

/** Every typed custom value a key holds, by custom name (those that do not decode left out). */
export function typedCustomValues(customAttributes: Readonly<Record<string, string>>): Array<{ name: string; value: TtlvNode }> {
  return Object.keys(customAttributes).flatMap((native) => {
    const name = customNameOfTyped(native);
    const value = name === null ? undefined : decodeTyped(customAttributes[native]);
    return name === null || value === undefined ? [] : [{ name, value }];
  });
}

/** The native names that hold custom attribute `name` (to remove it whatever its form). */
export function heldNativeNames(customAttributes: Readonly<Record<string, string>>, name: string): string[] {
  return [name, typedCustomName(name)].filter((native) => Object.prototype.hasOwnProperty.call(customAttributes, native));
}

/** The native SetCustomAttributes change that makes `name` hold `value`, removing the other form if the key has it. */
export function customWrite(customAttributes: Readonly<Record<string, string>>, name: string, value: CustomValue): { set: Record<string, string>; remove?: string[] } {
  if (typeof value === 'string') {
    const remove = heldNativeNames(customAttributes, name).filter((native) => native !== name);
    return remove.length > 0 ? { set: { [name]: value }, remove } : { set: { [name]: value } };
  }
  const native = typedCustomName(name);
  if (native.length > MAX_ATTRIBUTE_NAME) throw new KmipOperationError('InvalidField', `x-${name}: a custom attribute of a type other than Text String has a name of at most ${MAX_ATTRIBUTE_NAME - TYPED_PREFIX.length} characters`);
  const text = JSON.stringify([nodeToJson(value)]);
  if (text.length > MAX_ATTRIBUTE_VALUE) throw new KmipOperationError('InvalidField', `x-${name}: the value takes ${text.length} characters once encoded; at most ${MAX_ATTRIBUTE_VALUE}`);
  const remove = heldNativeNames(customAttributes, name).filter((held) => held !== native);
  return remove.length > 0 ? { set: { [native]: text }, remove } : { set: { [native]: text } };
}

/** Whether a held value is the value sent (same type and value). */
export function sameCustomValue(held: CustomValue, sent: CustomValue): boolean {
  if (typeof held === 'string' || typeof sent === 'string') return held === sent;
  return sameKeptValue(held, sent);
}
