/**
 * Items as the conformance report prints them: tag names, and values as
 * their text, but never key material: Byte Strings and Big Integers (key
 * bytes, RSA numbers, cipher text) are printed by their length only, and
 * long Text Strings are cut.
 */
import { enumerationOfTag, tagName, tagNumber, vocabularyTag } from '../../../protocol/kmip/dictionary';
import { formatTextValue } from '../../../protocol/kmip/kmip-text-values';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { bigIntByteLength } from '../../../protocol/kmip/ttlv-encoder';
import { isPlaceholder, TemplateNode } from './oasis-template';

/** Result Messages run long; a report line should still fit a terminal or two. */
const LONGEST_TEXT = 160;
const ATTRIBUTE_NAME = tagNumber('AttributeName');

export function nameOfTag(tag: number): string {
  return tagName(tag) ?? `0x${tag.toString(16).padStart(6, '0')}`;
}

/** An item's value in words, with nothing of its bytes: `AES`, `"SKLC-M-1-21"`, `Byte String of 16 bytes`. */
export function describeValue(node: TemplateNode, siblings: readonly TtlvNode[] = []): string {
  if (isPlaceholder(node)) return node.offsetSeconds === 0n ? node.placeholder : `${node.placeholder}${node.offsetSeconds > 0n ? '+' : ''}${node.offsetSeconds}`;
  switch (node.type) {
    case 'Structure': {
      // A 1.x Attribute is known by its name: `"Digest" (a Structure of 2 items)`.
      const name = node.value.find((child) => !isPlaceholder(child) && child.tag === ATTRIBUTE_NAME && child.type === 'TextString');
      const size = `a Structure of ${node.value.length} item${node.value.length === 1 ? '' : 's'}`;
      return name && 'value' in name ? `${JSON.stringify(name.value)} (${size})` : size;
    }
    case 'ByteString':
      return `Byte String of ${node.value.length} bytes`;
    case 'BigInteger':
      return `Big Integer of ${bigIntByteLength(node.value)} bytes`;
    case 'TextString':
      return JSON.stringify(node.value.length > LONGEST_TEXT ? `${node.value.slice(0, LONGEST_TEXT)}…` : node.value);
    case 'Enumeration':
      return enumerationOfTag(vocabularyTag(node.tag, siblings))?.byValue.get(node.value) ?? `0x${node.value.toString(16).padStart(8, '0')}`;
    default:
      return formatTextValue(node, vocabularyTag(node.tag, siblings), 'xml');
  }
}

/** An item as `Tag (Type) value`. */
export function describeItem(node: TemplateNode, siblings: readonly TtlvNode[] = []): string {
  return `${nameOfTag(node.tag)} (${node.type}) ${describeValue(node, siblings)}`;
}
