/**
 * Attributes as clients name and send them (docs/kmip.md §3.4): by 1.x
 * Attribute Name text or 2.x Attribute Reference (a tag, or a vendor's
 * name), and attribute values in a 1.x Attribute structure or as 2.x
 * items. A custom attribute is `x-NAME` (1.x) or Vendor Identification `x`
 * with Attribute Name `NAME` (2.x): native custom attribute `NAME`. Another
 * vendor's attribute is not one this server keeps. Pure.
 */
import { enumeration, normalizeKmipName, tagName } from '../dictionary';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { CUSTOM_PREFIX, CUSTOM_VENDOR, KmipAttribute, nativeCustomName } from './attribute-views';
import { KmipOperationError } from './kmip-operation';
import { refuseReservedCustomName } from './kept-attributes';
import { PayloadReader } from './payload';

/** Which attribute a request means: a standard one by tag name, a custom one by native name, or one this server never keeps. */
export type AttributeSelector =
  | { readonly kind: 'standard'; readonly tag: string }
  | { readonly kind: 'custom'; readonly name: string }
  | { readonly kind: 'foreign'; readonly label: string };

/** One attribute value a client sent: what it names, the 1.x Attribute Index if given, and the value item. */
export interface SentAttribute {
  readonly selector: AttributeSelector;
  readonly index?: number;
  readonly value: TtlvNode;
}

/** How a selector reads in messages: the 1.x name ('Activation Date', 'x-team'). */
export function selectorLabel(selector: AttributeSelector): string {
  if (selector.kind === 'custom') return CUSTOM_PREFIX + selector.name;
  return selector.kind === 'standard' ? selector.tag.replace(/([a-z])([A-Z])/g, '$1 $2') : selector.label;
}

/** A 1.x Attribute Name: `x-NAME` is custom; any other is a standard name, spelled as the specification spells it. */
export function selectorOfName(text: string): AttributeSelector {
  refuseReservedCustomName(text, 'AttributeName');
  const custom = nativeCustomName(text);
  if (custom !== null) return { kind: 'custom', name: custom };
  const tag = normalizeKmipName(text);
  return enumeration('Tag')?.byName.has(tag) === true ? { kind: 'standard', tag } : { kind: 'foreign', label: text };
}

/** A 2.x vendor attribute's name: ours when the vendor is `x`. */
function vendorSelector(reader: PayloadReader): AttributeSelector {
  const vendor = reader.requiredText('VendorIdentification');
  const name = reader.requiredText('AttributeName');
  if (vendor === CUSTOM_VENDOR) refuseReservedCustomName(CUSTOM_PREFIX + name, reader.path);
  return vendor === CUSTOM_VENDOR ? { kind: 'custom', name } : { kind: 'foreign', label: `${vendor}:${name}` };
}

/** The attributes a GetAttributes names (none: all of them): 1.x Attribute Name texts, 2.x Attribute References. */
export function readSelectors(reader: PayloadReader, version: ProtocolVersion): AttributeSelector[] {
  if (version.major < 2) {
    return reader.all('AttributeName').map((node) => {
      if (node.type !== 'TextString') throw new KmipOperationError('InvalidField', `${reader.path}/AttributeName must be a TextString`);
      return selectorOfName(node.value);
    });
  }
  return reader.all('AttributeReference').map((node) => referenceSelector(node, reader.path));
}

/** A 2.x Attribute Reference: an Enumeration of the attribute's tag, or a structure naming a vendor's attribute. */
export function referenceSelector(node: TtlvNode, path: string): AttributeSelector {
  if (node.type === 'Enumeration') {
    const tag = enumeration('Tag')?.byValue.get(node.value);
    if (tag === undefined) throw new KmipOperationError('InvalidField', `${path}/AttributeReference names no KMIP attribute`);
    return { kind: 'standard', tag };
  }
  const reader = new PayloadReader(node, `${path}/AttributeReference`);
  const selector = vendorSelector(reader);
  reader.rejectOthers();
  return selector;
}

/** A 1.x Attribute structure {Attribute Name, Attribute Index?, Attribute Value?}. */
export function readAttribute1(node: TtlvNode, path: string, valueRequired = true): SentAttribute & { value: TtlvNode | undefined } {
  const reader = new PayloadReader(node, path);
  const selector = selectorOfName(reader.requiredText('AttributeName'));
  const index = reader.integer('AttributeIndex');
  const value = valueRequired ? reader.required('AttributeValue') : reader.optional('AttributeValue');
  reader.rejectOthers();
  return { selector, index, value: value as TtlvNode };
}

/** A 2.x attribute item: its own tag, or Attribute {Vendor Identification, Attribute Name, Attribute Value} for a vendor's. */
export function readAttribute2(node: TtlvNode, path: string): SentAttribute {
  const tag = tagName(node.tag);
  if (tag !== 'Attribute') {
    if (tag === undefined) throw new KmipOperationError('InvalidField', `${path} holds an item with no KMIP tag`);
    return { selector: { kind: 'standard', tag }, value: node };
  }
  const reader = new PayloadReader(node, `${path}/Attribute`);
  const selector = vendorSelector(reader);
  const value = reader.required('AttributeValue');
  reader.rejectOthers();
  return { selector, value };
}

/** The one attribute inside a 2.x New Attribute or Current Attribute structure. */
export function readWrappedAttribute(reader: PayloadReader, name: 'NewAttribute' | 'CurrentAttribute'): SentAttribute | undefined {
  const wrapper = reader.structure(name);
  if (wrapper === undefined) return undefined;
  if (wrapper.children.length !== 1) throw new KmipOperationError('InvalidField', `${wrapper.path} must hold exactly one attribute`);
  return readAttribute2(wrapper.children[0], wrapper.path);
}

/** Whether a reported attribute is the one a selector names. */
export function selects(selector: AttributeSelector, attribute: KmipAttribute): boolean {
  if (selector.kind === 'standard') return attribute.kind === 'standard' && attribute.tag === selector.tag;
  return selector.kind === 'custom' && attribute.kind === 'custom' && attribute.name === selector.name;
}

/** The attributes selected, in the order the request named them (each once); all of them when none is named. */
export function selectAttributes(attributes: readonly KmipAttribute[], selectors: readonly AttributeSelector[]): KmipAttribute[] {
  if (selectors.length === 0) return [...attributes];
  const chosen = new Set<KmipAttribute>();
  for (const selector of selectors) for (const attribute of attributes) if (selects(selector, attribute)) chosen.add(attribute);
  return [...chosen];
}
