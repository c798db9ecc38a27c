/**
 * Building and reading operation payloads by tag name: the small vocabulary
 * every KmipOperation uses, so that each mapping reads like the table of
 * its operation in the specification. A payload field that is missing, of
 * the wrong type, or holds a value KMIP does not define is refused as
 * Invalid Field naming the field (never its value). Pure.
 */
import { enumeration, mask, tagName } from '../dictionary';
import { tagNumberOf } from '../kmip-message-fields';
import { presentFields, TtlvNode, TtlvNodeOf } from '../ttlv';
import { KmipOperationError } from './kmip-operation';

type Child = TtlvNode | undefined | readonly TtlvNode[];

export const item = (name: string, type: TtlvNode['type'], value: unknown): TtlvNode => ({ tag: tagNumberOf(name), type, value }) as TtlvNode;
export const structureItem = (name: string, children: readonly Child[]): TtlvNode =>
  item(name, 'Structure', presentFields(children));
export const textItem = (name: string, value: string): TtlvNode => item(name, 'TextString', value);
export const bytesItem = (name: string, value: Uint8Array): TtlvNode => item(name, 'ByteString', value);
export const integerItem = (name: string, value: number): TtlvNode => item(name, 'Integer', value);
export const booleanItem = (name: string, value: boolean): TtlvNode => item(name, 'Boolean', value);
export const intervalItem = (name: string, value: number): TtlvNode => item(name, 'Interval', value);
export const longItem = (name: string, value: bigint): TtlvNode => item(name, 'LongInteger', value);
/** A Date-Time from seconds since 1970. */
export const dateItem = (name: string, seconds: bigint): TtlvNode => item(name, 'DateTime', seconds);
/** A Date-Time from an ISO 8601 text (the appliance's views), truncated to the second. */
export const isoDateItem = (name: string, iso: string): TtlvNode => dateItem(name, BigInt(Math.floor(Date.parse(iso) / 1000)));

/** An Enumeration by its name in `enumerationName` (default: the tag's own); an unknown name is a programming error. */
export function enumItem(name: string, label: string, enumerationName: string = name): TtlvNode {
  const value = enumeration(enumerationName)?.byName.get(label);
  if (value === undefined) throw new Error(`${label} is not a KMIP ${enumerationName}`);
  return item(name, 'Enumeration', value);
}

/** A mask (Integer) from its bit names in `maskName` (default: the tag's own). */
export function maskItem(name: string, labels: readonly string[], maskName: string = name): TtlvNode {
  const table = mask(maskName);
  let bits = 0;
  for (const label of labels) {
    const bit = table?.byName.get(label);
    if (bit === undefined) throw new Error(`${label} is not a KMIP ${maskName} bit`);
    bits |= bit;
  }
  return integerItem(name, bits);
}

/** A Buffer over the same bytes (no copy: the transport zeroes the payload's bytes once answered, and with them this view). */
export function bufferView(bytes: Uint8Array): Buffer;
export function bufferView(bytes: Uint8Array | undefined): Buffer | undefined;
export function bufferView(bytes: Uint8Array | undefined): Buffer | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const responsePayload = (children: readonly Child[]): TtlvNode => structureItem('ResponsePayload', children);

const label = (node: TtlvNode): string => tagName(node.tag) ?? `0x${node.tag.toString(16)}`;

/**
 * The children of one payload structure by tag name. Reading is explicit
 * (`text('UniqueIdentifier')`); `rejectOthers` refuses any field the
 * mapping did not read, so nothing a client sends is silently ignored.
 */
export class PayloadReader {
  private readonly read = new Set<TtlvNode>();

  constructor(
    readonly node: TtlvNode,
    readonly path: string = label(node),
  ) {
    if (node.type !== 'Structure') throw new KmipOperationError('InvalidField', `${path} must be a Structure`);
  }

  get children(): readonly TtlvNode[] {
    return (this.node as TtlvNodeOf<'Structure'>).value;
  }

  all(name: string): TtlvNode[] {
    const tag = tagNumberOf(name);
    const found = this.children.filter((child) => child.tag === tag);
    for (const child of found) this.read.add(child);
    return found;
  }

  optional(name: string): TtlvNode | undefined {
    // A loop rather than all(): no array per field read, for every field of every request.
    const tag = tagNumberOf(name);
    let found: TtlvNode | undefined;
    for (const child of this.children) {
      if (child.tag !== tag) continue;
      if (found !== undefined) throw new KmipOperationError('InvalidField', `${this.path}/${name} appears more than once`);
      found = child;
      this.read.add(child);
    }
    return found;
  }

  required(name: string): TtlvNode {
    const found = this.optional(name);
    if (found === undefined) throw new KmipOperationError('InvalidField', `${this.path}/${name} is required`);
    return found;
  }

  /** The value of a field that must be of item type `type` (the callers narrow it to that type's value). */
  private typed(node: TtlvNode | undefined, name: string, type: TtlvNode['type']): unknown {
    if (node === undefined) return undefined;
    if (node.type !== type) throw new KmipOperationError('InvalidField', `${this.path}/${name} must be a ${type}, not a ${node.type}`);
    return node.value;
  }

  text(name: string): string | undefined {
    return this.typed(this.optional(name), name, 'TextString') as string | undefined;
  }

  requiredText(name: string): string {
    return this.typed(this.required(name), name, 'TextString') as string;
  }

  bytes(name: string): Uint8Array | undefined {
    return this.typed(this.optional(name), name, 'ByteString') as Uint8Array | undefined;
  }

  /** A Byte String field that must be there (Invalid Field naming it otherwise). */
  requiredBytes(name: string): Uint8Array {
    return this.typed(this.required(name), name, 'ByteString') as Uint8Array;
  }

  integer(name: string): number | undefined {
    return this.typed(this.optional(name), name, 'Integer') as number | undefined;
  }

  longInteger(name: string): bigint | undefined {
    return this.typed(this.optional(name), name, 'LongInteger') as bigint | undefined;
  }

  /** An Interval, in seconds. */
  interval(name: string): number | undefined {
    return this.typed(this.optional(name), name, 'Interval') as number | undefined;
  }

  boolean(name: string): boolean | undefined {
    return this.typed(this.optional(name), name, 'Boolean') as boolean | undefined;
  }

  date(name: string): bigint | undefined {
    return this.typed(this.optional(name), name, 'DateTime') as bigint | undefined;
  }

  /** An Enumeration's name in `enumerationName` (default: the tag's own); a value KMIP does not define is Invalid Field. */
  enumName(name: string, enumerationName: string = name): string | undefined {
    const value = this.typed(this.optional(name), name, 'Enumeration') as number | undefined;
    if (value === undefined) return undefined;
    const found = enumeration(enumerationName)?.byValue.get(value);
    if (found === undefined) throw new KmipOperationError('InvalidField', `${this.path}/${name} has a value KMIP does not define`);
    return found;
  }

  /** Every value of a repeated Enumeration field, by name. */
  enumNames(name: string, enumerationName: string = name): string[] {
    return this.all(name).map((node) => {
      if (node.type !== 'Enumeration') throw new KmipOperationError('InvalidField', `${this.path}/${name} must be an Enumeration, not a ${node.type}`);
      const found = enumeration(enumerationName)?.byValue.get(node.value);
      if (found === undefined) throw new KmipOperationError('InvalidField', `${this.path}/${name} has a value KMIP does not define`);
      return found;
    });
  }

  structure(name: string): PayloadReader | undefined {
    const node = this.optional(name);
    return node === undefined ? undefined : new PayloadReader(node, `${this.path}/${name}`);
  }

  /** Refuses every child not read so far (Invalid Field, naming the first). */
  rejectOthers(): void {
    const unread = this.children.find((child) => !this.read.has(child));
    if (unread !== undefined) throw new KmipOperationError('InvalidField', `${this.path}/${label(unread)} is not supported here`);
  }
}
