/**
 * The attributes a client sends with Create, Register and ReKey, read into
 * what the native operations take (docs/kmip.md §3.4): KMIP 1.x sends them
 * as a Template-Attribute of Attribute {Attribute Name, Attribute Value}
 * (1.4 §2.1.8), 2.x as an Attributes structure of tagged attributes (2.1
 * §7.2). Both are read into one RequestedAttributes. Anything this server
 * cannot honour is refused naming the attribute, never silently dropped: an
 * ignored Usage Mask or Activation Date would leave the client believing
 * something the appliance does not enforce. Reporting attributes back
 * (GetAttributes) is not here. Pure.
 */
import { enumeration, mask, tagName } from '../dictionary';
import { tagNumberOf } from '../kmip-message-fields';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { nativeCustomName } from './attribute-views';
import { encodeKeptValues, isKeptTag, keptName, keptValue, KeptTag, refuseReservedCustomName } from './kept-attributes';
import { KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';
import { refuseUnsafeQuantumRequest } from './quantum-safe';
import { customWrite, heldNativeNames, sentCustomValue } from './custom-values';
import { readUsageLimits } from './usage-limits-attribute';
import type { UsageLimit } from '../../../domain/usage-limits';

/** What a client asked for, in the appliance's terms; absent fields were not sent. */
export interface RequestedAttributes {
  /** The KMIP Cryptographic Algorithm by name (`AES`, `HMAC_SHA256`, …). */
  readonly algorithm?: string;
  /** Cryptographic Length, in bits. */
  readonly lengthBits?: number;
  /** Cryptographic Usage Mask as native usage names (domain/usage-mask.ts). */
  readonly usage?: readonly string[];
  /** Name → the key's full name (`namespace/name`; a name without a slash is in `default`). */
  readonly name?: string;
  /** Activation Date, seconds since 1970. */
  readonly activationDate?: bigint;
  /** Protect Stop Date and Process Start Date, seconds since 1970 (the native protectStopAt, processStartAt). */
  readonly protectStopDate?: bigint;
  readonly processStartDate?: bigint;
  /** Usage Limits → the first instance's usage limit (usage-limits-attribute.ts). */
  readonly usageLimit?: UsageLimit;
  /** Deactivation Date, seconds since 1970 (the native processStopAt: the instance is Deactivated from it). */
  readonly deactivationDate?: bigint;
  /** Contact Information → the key's owner. */
  readonly owner?: string;
  /**
   * Custom attributes (`x-…` in 1.x; Vendor Identification `x` + Attribute
   * Name in 2.x) by native name, and the kept standard attributes
   * (kept-attributes.ts) as their reserved `kmip.<Tag>` custom attributes.
   */
  readonly customAttributes: Readonly<Record<string, string>>;
  /** Certificate Type (a Certificate's Register: it must agree with the object's own). */
  readonly certificateType?: string;
  /** Fresh (Register: false when the client handed the material out already) and Sensitive (never served in the clear). */
  readonly fresh?: boolean;
  readonly sensitive?: boolean;
}

/**
 * KMIP's Cryptographic Usage Mask bits the appliance enforces, by their KMIP
 * names → native usage names. The bit values are the same on both sides
 * (domain/usage-mask.ts follows KMIP 1.4 §9.1.3.3.1); the other KMIP bits
 * (Content Commitment, Key Agreement, Certificate Sign, …, Unrestricted)
 * name uses no Strongroom key has, so they are refused rather than stored.
 */
export const USAGE_OF_MASK_BIT: Readonly<Record<string, string>> = {
  Sign: 'sign',
  Verify: 'verify',
  Encrypt: 'encrypt',
  Decrypt: 'decrypt',
  WrapKey: 'wrap-key',
  UnwrapKey: 'unwrap-key',
  Export: 'export',
  MACGenerate: 'mac-generate',
  MACVerify: 'mac-verify',
  DeriveKey: 'derive-key',
};

/** The appliance's algorithm for a KMIP algorithm and length; the HMAC keys it generates are as long as their hash. */
const APPLIANCE_ALGORITHMS: ReadonlyArray<{ kmip: string; bits: number; algorithm: string }> = [
  { kmip: 'AES', bits: 128, algorithm: 'AES-128' },
  { kmip: 'AES', bits: 192, algorithm: 'AES-192' },
  { kmip: 'AES', bits: 256, algorithm: 'AES-256' },
  { kmip: 'HMAC_SHA256', bits: 256, algorithm: 'HMAC-SHA256' },
  { kmip: 'HMAC_SHA512', bits: 512, algorithm: 'HMAC-SHA512' },
  // A 256-bit ChaCha20 key serves ChaCha20-Poly1305: KMIP names it either way (the OASIS CS-BC cases register both); it reads back as ChaCha20, the first.
  { kmip: 'ChaCha20', bits: 256, algorithm: 'CHACHA20' },
  { kmip: 'ChaCha20Poly1305', bits: 256, algorithm: 'CHACHA20' },
];

/** The KMIP Cryptographic Algorithm and Length of an appliance algorithm (SECRET has none: it is Secret Data). */
export function kmipAlgorithmOf(algorithm: string): { kmip: string; bits: number } | null {
  const found = APPLIANCE_ALGORITHMS.find((entry) => entry.algorithm === algorithm);
  return found === undefined ? null : { kmip: found.kmip, bits: found.bits };
}

/**
 * The appliance algorithm (AES-256, HMAC-SHA512, …) for a symmetric key's
 * Cryptographic Algorithm and Length; refuses what it cannot generate or hold.
 */
export function applianceAlgorithm(kmip: string | undefined, lengthBits: number | undefined): string {
  if (kmip === undefined) throw new KmipOperationError('InvalidField', 'Cryptographic Algorithm is required for a Symmetric Key: AES, HMAC_SHA256, HMAC_SHA512 or ChaCha20');
  const lengths = APPLIANCE_ALGORITHMS.filter((entry) => entry.kmip === kmip);
  if (lengths.length === 0) {
    throw new KmipOperationError('FeatureNotSupported', `Cryptographic Algorithm ${kmip} is not supported: symmetric keys here are AES (128, 192, 256 bits), HMAC_SHA256 (256), HMAC_SHA512 (512) or ChaCha20 / ChaCha20Poly1305 (256)`);
  }
  // An HMAC's length follows from its hash; AES has three, so it must be said.
  const bits = lengthBits ?? (lengths.length === 1 ? lengths[0].bits : undefined);
  if (bits === undefined) throw new KmipOperationError('InvalidField', `Cryptographic Length is required with ${kmip}: ${lengths.map((entry) => entry.bits).join(', ')}`);
  const found = lengths.find((entry) => entry.bits === bits);
  if (found === undefined) {
    throw new KmipOperationError(kmip === 'AES' ? 'InvalidField' : 'FeatureNotSupported', `Cryptographic Length ${bits} is not supported with ${kmip}: ${lengths.map((entry) => entry.bits).join(', ')}`);
  }
  return found.algorithm;
}

/**
 * Reads the attributes of a Create, Register or ReKey payload: the
 * Template-Attribute (1.x) or Attributes (2.x) field, if present. The
 * caller's `rejectOthers` then refuses the other shape's field.
 */
export function readRequestedAttributes(payload: PayloadReader, version: ProtocolVersion): RequestedAttributes {
  const collected = new Collector();
  if (version.major >= 2) {
    const attributes = payload.structure('Attributes');
    if (attributes !== undefined) readTaggedAttributes(attributes, collected);
    if (payload.optional('ProtectionStorageMasks') !== undefined) {
      throw new KmipOperationError('FeatureNotSupported', 'Protection Storage Masks are not supported: every key is sealed under the appliance\'s HSM master key');
    }
  } else {
    const template = payload.structure('TemplateAttribute');
    if (template !== undefined) readTemplateAttribute(template, collected);
  }
  return collected.result();
}

/** 1.x: Attribute {Attribute Name, Attribute Index?, Attribute Value}; a Name here would reference a Template object. */
function readTemplateAttribute(template: PayloadReader, into: Collector): void {
  if (template.all('Name').length > 0) {
    throw new KmipOperationError('FeatureNotSupported', 'Template-Attribute/Name: Template objects are not supported (deprecated since KMIP 1.3); send the attributes themselves');
  }
  for (const node of template.all('Attribute')) {
    const attribute = new PayloadReader(node, `${template.path}/Attribute`);
    const name = attribute.requiredText('AttributeName');
    const index = attribute.integer('AttributeIndex');
    const value = attribute.required('AttributeValue');
    attribute.rejectOthers();
    if (index !== undefined && index !== 0) throw new KmipOperationError('FeatureNotSupported', `${name}: Attribute Index ${index}: each attribute is taken once here`);
    if (/^[xy]-/.test(name)) into.custom(customName(name, `${template.path}/Attribute`), value);
    else into.add(name.replace(/ /g, ''), name, value);
  }
  template.rejectOthers();
}

/**
 * A custom attribute's native name: KMIP `x-foo` is the appliance's `foo`,
 * as GetAttributes reports it back (attribute-views.ts); `y-` attributes
 * (the server's own, in KMIP) and other vendors are refused.
 */
function customName(kmipName: string, path: string): string {
  refuseReservedCustomName(kmipName, path);
  const native = nativeCustomName(kmipName);
  if (native === null) throw new KmipOperationError('FeatureNotSupported', `${path}: custom attribute ${JSON.stringify(kmipName)} is not kept here: only x- attributes are`);
  return native;
}

/** 2.x: each attribute is its own tag; custom ones are Attribute {Vendor Identification, Attribute Name, Attribute Value}. */
function readTaggedAttributes(attributes: PayloadReader, into: Collector): void {
  refuseUnsafeQuantumRequest(attributes.children);
  for (const node of attributes.children) {
    if (node.tag === tagNumberOf('Attribute')) {
      const custom = new PayloadReader(node, `${attributes.path}/Attribute`);
      const vendor = custom.requiredText('VendorIdentification');
      const name = custom.requiredText('AttributeName');
      const value = custom.required('AttributeValue');
      custom.rejectOthers();
      if (vendor !== 'x') throw new KmipOperationError('FeatureNotSupported', `${attributes.path}/Attribute: custom attributes of vendor ${JSON.stringify(vendor)} are not kept here; use Vendor Identification "x"`);
      into.custom(customName(`x-${name}`, `${attributes.path}/Attribute`), value);
    } else {
      const tag = tagName(node.tag) ?? `0x${node.tag.toString(16)}`;
      into.add(tag, tag, node);
    }
  }
}

/** The attributes as they are read, each at most once, into the fields of RequestedAttributes. */
class Collector {
  private readonly fields: {
    algorithm?: string;
    lengthBits?: number;
    usage?: string[];
    name?: string;
    activationDate?: bigint;
    protectStopDate?: bigint;
    processStartDate?: bigint;
    usageLimit?: UsageLimit;
    deactivationDate?: bigint;
    owner?: string;
    certificateType?: string;
    fresh?: boolean;
    sensitive?: boolean;
  } = {};
  private readonly customAttributes: Record<string, string> = {};
  private readonly kept = new Map<KeptTag, TtlvNode[]>();
  private readonly seen = new Set<string>();

  /** `key`: the attribute's tag name; `label`: how the client named it (for messages). */
  add(key: string, label: string, value: TtlvNode): void {
    if (isKeptTag(key)) {
      // Kept attributes may have several values (KMIP 1.4 §3: multiple instances permitted).
      this.kept.set(key, [...(this.kept.get(key) ?? []), keptValue(key, value)]);
      return;
    }
    if (this.seen.has(key)) throw new KmipOperationError('FeatureNotSupported', `${label} is given more than once: each attribute is taken once here`);
    this.seen.add(key);
    switch (key) {
      case 'CryptographicAlgorithm':
        this.fields.algorithm = enumValue(label, value, 'CryptographicAlgorithm');
        return;
      case 'CryptographicLength':
        this.fields.lengthBits = integerValue(label, value);
        return;
      case 'CryptographicUsageMask':
        this.fields.usage = usageOf(label, integerValue(label, value));
        return;
      case 'Name':
        this.fields.name = nameValue(label, value);
        return;
      case 'ActivationDate':
        this.fields.activationDate = typed(label, value, 'DateTime') as bigint;
        return;
      case 'ProtectStopDate':
        this.fields.protectStopDate = typed(label, value, 'DateTime') as bigint;
        return;
      case 'ProcessStartDate':
        this.fields.processStartDate = typed(label, value, 'DateTime') as bigint;
        return;
      case 'DeactivationDate':
        this.fields.deactivationDate = typed(label, value, 'DateTime') as bigint;
        return;
      case 'UsageLimits':
        // The instance's budget, spent by every cryptographic operation under it (usage-limits-attribute.ts).
        this.fields.usageLimit = readUsageLimits(label, value);
        return;
      case 'ContactInformation':
        this.fields.owner = typed(label, value, 'TextString') as string;
        return;
      case 'CertificateType':
        this.fields.certificateType = enumValue(label, value, 'CertificateType');
        return;
      case 'Fresh':
        this.fields.fresh = typed(label, value, 'Boolean') as boolean;
        return;
      case 'Sensitive':
        this.fields.sensitive = typed(label, value, 'Boolean') as boolean;
        return;
      default:
        throw new KmipOperationError('FeatureNotSupported', `${label} cannot be set here: Create, Register and ReKey take Cryptographic Algorithm, Cryptographic Length, Cryptographic Usage Mask, Name, Activation Date, Deactivation Date, Protect Stop Date, Process Start Date, Contact Information, Fresh, Sensitive, Alternative Name, Application Specific Information, Cryptographic Parameters, Object Group and custom attributes`);
    }
  }

  custom(name: string, value: TtlvNode): void {
    if (heldNativeNames(this.customAttributes, name).length > 0) throw new KmipOperationError('FeatureNotSupported', `custom attribute ${name} is given more than once: each is taken once here`);
    // A Text String is the native custom attribute; another type is kept typed (custom-values.ts).
    Object.assign(this.customAttributes, customWrite({}, name, sentCustomValue(`custom attribute ${name}`, value)).set);
  }

  result(): RequestedAttributes {
    const kept = Object.fromEntries([...this.kept].map(([tag, values]) => [keptName(tag), encodeKeptValues(tag, values) as string]));
    return { ...this.fields, customAttributes: { ...this.customAttributes, ...kept } };
  }
}

function typed(label: string, value: TtlvNode, type: TtlvNode['type']): unknown {
  if (value.type !== type) throw new KmipOperationError('InvalidField', `${label} must be a ${type}, not a ${value.type}`);
  return value.value;
}

function integerValue(label: string, value: TtlvNode): number {
  return typed(label, value, 'Integer') as number;
}

function enumValue(label: string, value: TtlvNode, enumerationName: string): string {
  const found = enumeration(enumerationName)?.byValue.get(typed(label, value, 'Enumeration') as number);
  if (found === undefined) throw new KmipOperationError('InvalidField', `${label} has a value KMIP does not define`);
  return found;
}

function usageOf(label: string, bits: number): string[] {
  const table = mask('CryptographicUsageMask');
  const usage: string[] = [];
  const refused: string[] = [];
  for (const [bitName, bit] of table?.byName ?? []) {
    if ((bits & bit) === 0) continue;
    const native = USAGE_OF_MASK_BIT[bitName];
    if (native === undefined) refused.push(bitName);
    else usage.push(native);
  }
  const known = [...(table?.byName.values() ?? [])].reduce((all, bit) => all | bit, 0);
  if ((bits & ~known) !== 0) throw new KmipOperationError('InvalidField', `${label} has bits KMIP does not define`);
  if (refused.length > 0) {
    throw new KmipOperationError('FeatureNotSupported', `${label}: ${refused.join(', ')} cannot be enforced here; keys are used for ${Object.keys(USAGE_OF_MASK_BIT).join(', ')}`);
  }
  if (usage.length === 0) throw new KmipOperationError('InvalidField', `${label} is empty: a key with no usage could never be used`);
  return usage;
}

/** Name {Name Value, Name Type}: the key's name; a URI is refused by the key-name rules if it does not fit them. */
function nameValue(label: string, value: TtlvNode): string {
  const name = new PayloadReader(value, label);
  const text = name.requiredText('NameValue');
  name.enumName('NameType');
  name.rejectOthers();
  return text;
}
