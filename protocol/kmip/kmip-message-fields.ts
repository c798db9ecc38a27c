/**
 * Reading the fields of one KMIP message structure against its table in the
 * specification: which tags may appear, with which item type, and which may
 * repeat. Shared by the request and response decoders; every refusal is a
 * KmipMessageError naming the field. Pure.
 */
import { enumeration, tagName, tagNumber } from './dictionary';
import { ProtocolVersion } from './kmip-message';
import { KmipMessageError, KmipMessageReason } from './kmip-message-error';
import { ItemType, TtlvNode, TtlvNodeOf } from './ttlv';

interface ValueByType {
  Structure: readonly TtlvNode[];
  Integer: number;
  LongInteger: bigint;
  BigInteger: bigint;
  Enumeration: number;
  Boolean: boolean;
  TextString: string;
  ByteString: Uint8Array;
  DateTime: bigint;
  Interval: number;
  DateTimeExtended: bigint;
}
type ValueOf<T extends ItemType> = ValueByType[T];

export interface FieldSpec {
  readonly name: string;
  readonly types: readonly ItemType[];
  readonly repeated?: boolean;
}

/** The children of one structure, grouped by field name, checked against its table. */
export class StructureFields {
  private readonly byName = new Map<string, TtlvNode[]>();

  constructor(
    readonly structureName: string,
    children: readonly TtlvNode[],
    specs: readonly FieldSpec[],
    readonly replyVersion: ProtocolVersion | undefined,
  ) {
    const specByTag = specsByTag(specs);
    for (const child of children) {
      const spec = specByTag.get(child.tag);
      if (spec === undefined) {
        const label = this.label(child.tag);
        this.fail('UNEXPECTED_FIELD', `${label} has no place in a ${structureName}: remove it`, label);
      }
      if (!spec.types.includes(child.type)) this.fail('WRONG_TYPE', `${this.label(child.tag)} must be a ${spec.types.join(' or ')}, not a ${child.type}`, this.label(child.tag));
      const list = this.byName.get(spec.name);
      if (list === undefined) this.byName.set(spec.name, [child]);
      else if (!spec.repeated) this.fail('DUPLICATE_FIELD', `${this.label(child.tag)} appears more than once: send it once`, this.label(child.tag));
      else list.push(child);
    }
  }

  /** A field's name for a refusal (built only when refusing: this runs for every field of every message). */
  private label(tag: number): string {
    return `${this.structureName}/${tagName(tag) ?? `0x${tag.toString(16)}`}`;
  }

  fail(reason: KmipMessageReason, message: string, field?: string): never {
    throw new KmipMessageError(reason, message, { field, replyVersion: this.replyVersion });
  }

  optional(name: string): TtlvNode | undefined {
    return this.byName.get(name)?.[0];
  }

  all(name: string): TtlvNode[] {
    return this.byName.get(name) ?? [];
  }

  required(name: string): TtlvNode {
    const node = this.optional(name);
    if (node === undefined) this.fail('MISSING_FIELD', `${this.structureName}/${name} is required`, `${this.structureName}/${name}`);
    return node;
  }

  /** The value of a field of one item type; the specs already pinned the type. */
  value<T extends ItemType>(name: string, type: T): ValueOf<T> | undefined {
    const node = this.optional(name);
    return node === undefined || node.type !== type ? undefined : (node.value as unknown as ValueOf<T>);
  }

  requiredValue<T extends ItemType>(name: string, type: T): ValueOf<T> {
    this.required(name);
    return this.value(name, type) as ValueOf<T>;
  }

  /** An Enumeration field's name in `enumerationName`; a value KMIP does not define is refused. */
  enumerationName(name: string, enumerationName: string, node: TtlvNode | undefined = this.optional(name)): string | undefined {
    if (node === undefined) return undefined;
    const label = enumeration(enumerationName)?.byValue.get(node.value as number);
    if (label === undefined) {
      this.fail(name === 'Operation' ? 'UNKNOWN_OPERATION' : 'BAD_VALUE', `${this.structureName}/${name} has a value KMIP does not define`, `${this.structureName}/${name}`);
    }
    return label;
  }

  nonNegative(name: string, value: number | undefined): number | undefined {
    if (value !== undefined && value < 0) this.fail('BAD_VALUE', `${this.structureName}/${name} must not be negative`, `${this.structureName}/${name}`);
    return value;
  }
}

/** Each table's specs by tag, made once per table (the tables are module constants) rather than once per structure read. */
const specMaps = new WeakMap<readonly FieldSpec[], ReadonlyMap<number, FieldSpec>>();

function specsByTag(specs: readonly FieldSpec[]): ReadonlyMap<number, FieldSpec> {
  let map = specMaps.get(specs);
  if (map === undefined) {
    map = new Map(specs.map((spec) => [tagNumberOf(spec.name), spec]));
    specMaps.set(specs, map);
  }
  return map;
}

export function tagNumberOf(name: string): number {
  const tag = tagNumber(name);
  if (tag === undefined) throw new Error(`KMIP dictionary lacks the tag ${name}`);
  return tag;
}

const PROTOCOL_VERSION_FIELDS: readonly FieldSpec[] = [
  { name: 'ProtocolVersionMajor', types: ['Integer'] },
  { name: 'ProtocolVersionMinor', types: ['Integer'] },
];

/** Reads a Protocol Version structure (major, minor). */
export function readProtocolVersion(parent: StructureFields): ProtocolVersion {
  const node = parent.required('ProtocolVersion') as TtlvNodeOf<'Structure'>;
  const fields = new StructureFields('ProtocolVersion', node.value, PROTOCOL_VERSION_FIELDS, parent.replyVersion);
  return { major: fields.requiredValue('ProtocolVersionMajor', 'Integer'), minor: fields.requiredValue('ProtocolVersionMinor', 'Integer') };
}
