/**
 * Locate's attributes (KMIP 2.1 §6.1.27, 1.4 §4.9) as a native Locate
 * query plus a predicate on the keys it answers (docs/kmip.md §3.4): what
 * native Locate can say (an exact name, one algorithm, custom attribute
 * values, which narrow the kept attributes too, date ranges of the current
 * instance: locate-dates.ts) goes to it, the rest
 * (object type, algorithm family, length, state of the current instance,
 * usage mask, custom attributes, Unique Identifier) is checked here on the
 * KeyViews it returned — never on keys it did not return, so nothing the
 * client may not locate is seen. An attribute this server cannot match on is
 * refused by name, not ignored (ignoring it would locate too much). Pure.
 */
import { formatKeyName, parseKeyName } from '../../../domain/key-names';
import type { KeyView } from '../../../domain/view-types';
import { enumeration, mask } from '../dictionary';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { ALGORITHM_ATTRIBUTES, objectTypeOf } from './attribute-views';
import { readAttribute1, readAttribute2, selectorLabel, SentAttribute } from './attribute-references';
import { MAX_ATTRIBUTE_VALUE } from '../../../domain/vocabulary/key-metadata-limits';
import { KmipOperationError } from './kmip-operation';
import { isKeptTag, keepsValue, keptLocatePattern, keptName, keptValue } from './kept-attributes';
import { LOCATED_DATES, LocateDates } from './locate-dates';
import { PayloadReader } from './payload';

/** What native Locate is asked (OP_SCHEMAS.Locate), and what the mapping checks on each key it answers. */
export interface LocateQuery {
  readonly pattern?: string;
  readonly algorithm?: string;
  /** Custom attributes native Locate narrows by (globs): the x- values, and the kept attributes' values inside their lists. */
  readonly attributes?: Record<string, string>;
  /** Date ranges native Locate checks on each key's current instance (locate-dates.ts). */
  readonly dates?: Record<string, string>;
  readonly matches: (key: KeyView) => boolean;
}

const DESTROYED_STATES = new Set(['Destroyed', 'DestroyedCompromised']);

function enumValue(sent: SentAttribute, enumerationName: string): string {
  const found = sent.value.type === 'Enumeration' ? enumeration(enumerationName)?.byValue.get(sent.value.value) : undefined;
  if (found === undefined) throw new KmipOperationError('InvalidField', `Locate: ${selectorLabel(sent.selector)} must be a ${enumerationName} Enumeration`);
  return found;
}

function typed<T>(sent: SentAttribute, type: TtlvNode['type']): T {
  if (sent.value.type !== type) throw new KmipOperationError('InvalidField', `Locate: ${selectorLabel(sent.selector)} must be a ${type}`);
  return sent.value.value as T;
}

/** A Name attribute's value: the key's canonical full name, or null when no key can have that name. */
function nameOf(sent: SentAttribute): string | null {
  const reader = new PayloadReader(sent.value, 'Locate/Name');
  const value = reader.requiredText('NameValue');
  reader.enumName('NameType');
  reader.rejectOthers();
  try {
    return formatKeyName(parseKeyName(value));
  } catch {
    return null; // not a name a key can have (a glob character, a space…): nothing matches
  }
}

/** The attributes sent: 1.x Attribute structures, 2.x the items of one Attributes structure. */
function sentAttributes(reader: PayloadReader, version: ProtocolVersion): SentAttribute[] {
  if (version.major < 2) return reader.all('Attribute').map((node) => readAttribute1(node, `${reader.path}/Attribute`) as SentAttribute);
  const attributes = reader.structure('Attributes');
  return attributes === undefined ? [] : attributes.children.map((node) => readAttribute2(node, attributes.path));
}

/**
 * The query for a Locate payload's attributes and Storage Status Mask.
 * Destroyed objects are located only when the mask asks for destroyed
 * storage (2.x) or a State filter names a destroyed state.
 */
export function locateQuery(reader: PayloadReader, version: ProtocolVersion): LocateQuery {
  const checks: Array<(key: KeyView) => boolean> = [];
  let pattern: string | undefined;
  let family: string | undefined;
  let length: number | undefined;
  let objectType: string | undefined;
  let stateAsked = false;
  const attributes: Record<string, string> = {};
  // The first value asked of each native attribute narrows the storage query; every value is checked on what it answers.
  const narrow = (name: string, pattern: string): void => {
    if (!Object.prototype.hasOwnProperty.call(attributes, name)) attributes[name] = pattern;
  };
  const storage = reader.integer('StorageStatusMask');
  const dates = new LocateDates();
  for (const sent of sentAttributes(reader, version)) {
    const { selector } = sent;
    if (selector.kind === 'standard' && dates.takes(selector.tag)) {
      dates.add(selector.tag, typed<bigint>(sent, 'DateTime'));
      continue;
    }
    if (selector.kind === 'custom') {
      const value = typed<string>(sent, 'TextString');
      // A `*` in it matches more in storage; the check below is exact. A value longer than any key keeps matches none.
      if (value.length > MAX_ATTRIBUTE_VALUE) checks.push(() => false);
      else narrow(selector.name, value);
      checks.push((key) => key.customAttributes[selector.name] === value);
      continue;
    }
    const tag = selector.kind === 'standard' ? selector.tag : '';
    if (isKeptTag(tag)) {
      const value = keptValue(tag, sent.value);
      const pattern = keptLocatePattern(value);
      if (pattern === null) checks.push(() => false);
      else narrow(keptName(tag), pattern);
      checks.push((key) => keepsValue(key.customAttributes, tag, value));
      continue;
    }
    switch (tag) {
      case 'Name': {
        const name = nameOf(sent);
        if (name === null || (pattern !== undefined && pattern !== name)) checks.push(() => false);
        else pattern = name;
        break;
      }
      case 'ObjectType': {
        const type = enumValue(sent, 'ObjectType');
        objectType = type;
        checks.push((key) => objectTypeOf(key.algorithm) === type);
        break;
      }
      case 'CryptographicAlgorithm':
        family = enumValue(sent, 'CryptographicAlgorithm');
        break;
      case 'CryptographicLength':
        length = typed<number>(sent, 'Integer');
        break;
      case 'State': {
        const state = enumValue(sent, 'State');
        stateAsked ||= DESTROYED_STATES.has(state);
        checks.push((key) => key.currentState === state);
        break;
      }
      case 'CryptographicUsageMask': {
        const bits = typed<number>(sent, 'Integer');
        checks.push((key) => (key.usageMask & bits) === bits);
        break;
      }
      case 'UniqueIdentifier': {
        const uid = typed<string>(sent, 'TextString');
        checks.push((key) => key.currentInstance === uid);
        break;
      }
      default:
        throw new KmipOperationError('FeatureNotSupported', `Locate by ${selectorLabel(selector)} is not supported: this server locates by Name, Object Type, Cryptographic Algorithm and Length, State, Cryptographic Usage Mask, Unique Identifier, ${LOCATED_DATES}, Alternative Name, Application Specific Information, Cryptographic Parameters, Object Group and x- attributes`);
    }
  }
  const destroyedBit = mask('StorageStatusMask')?.byName.get('DestroyedStorage') ?? 0;
  const onlineBit = mask('StorageStatusMask')?.byName.get('OnlineStorage') ?? 0;
  const withLive = storage === undefined || (storage & onlineBit) !== 0;
  const withDestroyed = stateAsked || (storage !== undefined && (storage & destroyedBit) !== 0);
  checks.push((key) => (DESTROYED_STATES.has(key.currentState) ? withDestroyed : withLive));
  // Algorithm and length: exactly one appliance algorithm goes to native Locate; a family is checked here.
  const algorithms = Object.entries(ALGORITHM_ATTRIBUTES).filter(([, kmip]) => (family === undefined || kmip?.algorithm === family) && (length === undefined || kmip?.length === length));
  if (family !== undefined || length !== undefined) {
    const allowed = new Set(algorithms.map(([name]) => name));
    checks.push((key) => allowed.has(key.algorithm));
  }
  const secretOnly = objectType === 'SecretData' && family === undefined && length === undefined;
  const algorithm = secretOnly ? 'SECRET' : algorithms.length === 1 ? algorithms[0][0] : undefined;
  return {
    pattern,
    algorithm,
    attributes: Object.keys(attributes).length === 0 ? undefined : attributes,
    dates: dates.ranges(),
    matches: (key) => checks.every((check) => check(key)),
  };
}
