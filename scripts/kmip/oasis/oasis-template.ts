/**
 * A test-case message as a template: the TTLV tree of the XML, but for the
 * values the OASIS cases leave open, which stay named placeholders —
 * `$NOW`, `$NOW+n`, `$NOW-n` (Date-Times), `$UNIQUE_IDENTIFIER_n` (Text
 * Strings), `$IV_COUNTER_NONCE`, `$DATA_0`, `$SHORT_UNIQUE_IDENTIFIER_0`, …
 * (Byte Strings). The codec's XML parser reads the file; its placeholder hook
 * hands back markers that this module turns into placeholder nodes, so the
 * conformance runner sees exactly where each open value sits.
 */
import { parseKmipXmlDocument } from '../../../protocol/kmip/kmip-xml';
import { PrimitiveNode, PrimitiveType, PrimitiveValue } from '../../../protocol/kmip/kmip-text-values';
import { TtlvNode } from '../../../protocol/kmip/ttlv';

/** A value the case leaves open: bound from the server's answers, or the time of the run. */
export interface PlaceholderNode {
  readonly tag: number;
  readonly type: PrimitiveType;
  /** The name without its offset: `$NOW`, `$UNIQUE_IDENTIFIER_0`, `$DATA_0`. */
  readonly placeholder: string;
  /** Seconds added to `$NOW` (`$NOW-3600` → -3600n); 0n for the others. */
  readonly offsetSeconds: bigint;
}

export interface TemplateStructure {
  readonly tag: number;
  readonly type: 'Structure';
  readonly value: readonly TemplateNode[];
}

export type TemplateNode = TemplateStructure | PrimitiveNode | PlaceholderNode;

export function isPlaceholder(node: TemplateNode): node is PlaceholderNode {
  return 'placeholder' in node;
}

export const NOW_PLACEHOLDER = '$NOW';
const TEXT_PLACEHOLDER = /^\$[A-Z][A-Z0-9_]*$/;
const NOW_TEXT = /^\$NOW(?:([+-])(\d{1,12}))?$/;
/**
 * What `$NOW` parses to while loading: 2^61 seconds, a date no server sends,
 * so an offset `$NOW±n` (at most 12 digits) is recognised by its distance
 * from it.
 */
const NOW_MARKER = 1n << 61n;
const NOW_MARKER_REACH = 10n ** 13n;

/** Parses an OASIS test-case file into its messages, requests and responses in order, placeholders kept. */
export function parseTemplateDocument(text: string): TemplateNode[] {
  const byteMarkers = new Map<Uint8Array, string>();
  const placeholder = (value: string, type: PrimitiveType): PrimitiveValue | undefined => {
    if (type !== 'ByteString' || !TEXT_PLACEHOLDER.test(value)) return undefined;
    const marker = new Uint8Array(0);
    byteMarkers.set(marker, value);
    return marker;
  };
  const messages = parseKmipXmlDocument(text, { now: NOW_MARKER, placeholder });
  return messages.map((message) => toTemplate(message, byteMarkers));
}

function toTemplate(node: TtlvNode, byteMarkers: ReadonlyMap<Uint8Array, string>): TemplateNode {
  switch (node.type) {
    case 'Structure':
      return { tag: node.tag, type: 'Structure', value: node.value.map((child) => toTemplate(child, byteMarkers)) };
    case 'DateTime': {
      const offset = node.value - NOW_MARKER;
      return offset > -NOW_MARKER_REACH && offset < NOW_MARKER_REACH ? { tag: node.tag, type: 'DateTime', placeholder: NOW_PLACEHOLDER, offsetSeconds: offset } : node;
    }
    case 'ByteString': {
      const name = byteMarkers.get(node.value);
      return name === undefined ? node : { tag: node.tag, type: 'ByteString', placeholder: name, offsetSeconds: 0n };
    }
    case 'TextString':
      return TEXT_PLACEHOLDER.test(node.value) && !NOW_TEXT.test(node.value) ? { tag: node.tag, type: 'TextString', placeholder: node.value, offsetSeconds: 0n } : node;
    default:
      return node;
  }
}

/** Every placeholder name a template uses, once each, in order of appearance. */
export function placeholdersOf(node: TemplateNode, into: Set<string> = new Set()): Set<string> {
  if (isPlaceholder(node)) into.add(node.placeholder);
  else if (node.type === 'Structure') for (const child of node.value) placeholdersOf(child, into);
  return into;
}
