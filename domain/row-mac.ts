/**
 * Row MACs: an HMAC-SHA256 over every field of a key row and of an instance
 * row that the keychain relies on but AES-GCM does not cover — names (how
 * rows are looked up), the current-instance pointer, lifecycle state, usage
 * and policy. The store is untrusted: a row whose name was swapped with
 * another's, whose current pointer was moved back to an old instance, or
 * whose state was flipped, fails verification with INTEGRITY_FAILURE instead
 * of serving the wrong key or a key in the wrong state.
 *
 * The MAC key is derived from the keychain key with HKDF (RFC 5869), under its
 * own label, so it is never the key that seals material. A keychain-key
 * rotation must re-MAC every row in the transaction that re-seals them.
 *
 * Not covered: replaying a whole older copy of a row together with its older
 * MAC. That needs a chain over all changes (the audit trail's hash chain).
 *
 * Versioning rule: the field lists below are those of schema v6, the first
 * released. Adding a field to a MAC later changes every stored MAC, so it
 * must come with a new label (…/v2), verification that accepts the v1 list,
 * and a re-MAC of every row at the first unseal after the migration (the MAC
 * key exists only while unsealed). Exception: an optional field that old
 * rows never hold may be appended after its own label only when it is set
 * (optionalField): every existing row's MAC stays the same. Likewise a
 * field with a default that every existing row holds: it enters the
 * encoding only when it differs from that default, as a (name, value) pair after the v1 list (see
 * `instanceExtras`), so an existing row's MAC is unchanged while a row whose
 * stored value is flipped either way fails (the pair appears or vanishes).
 * The audit events add `transport` the same way, only when present.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { KeychainError } from '../common/errors';
import { AliasRecord, InstanceRecord, KeyRecord } from '../storage/records';
import { encodeFields } from './field-encoding';

const HKDF_INFO = 'strongroom/row-mac/v1';
const KEY_ROW_LABEL = 'strongroom/key-row/v1';
const INSTANCE_ROW_LABEL = 'strongroom/instance-row/v1';
const MAC_KEY_BYTES = 32;

export function deriveRowMacKey(keychainKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', keychainKey, Buffer.alloc(0), HKDF_INFO, MAC_KEY_BYTES));
}

/** Attributes in name order, so the MAC does not depend on insertion order. */
function canonicalAttributes(attributes: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.keys(attributes).sort().map((name) => [name, attributes[name]]));
}

export type KeyRowFields = Omit<KeyRecord, 'rowMac'>;
export type InstanceRowFields = Omit<InstanceRecord, 'rowMac'>;

export function keyRowMac(macKey: Buffer, keychainId: string, key: KeyRowFields): Buffer {
  const fields = encodeFields([
    KEY_ROW_LABEL,
    keychainId,
    key.id,
    key.namespace,
    key.name,
    key.algorithm,
    key.usageMask,
    key.description,
    key.owner,
    canonicalAttributes(key.customAttributes),
    key.rolloverPolicy,
    key.cryptoperiod,
    key.currentInstanceId,
    key.nextRolloverAt,
    key.protectPeriod,
    key.processPeriod,
    key.createdAt,
    key.updatedAt,
    // Added with schema v15 and only when present: every row without facts keeps the MAC it had (no re-MAC, no new
    // label), and a row with them cannot lose them (the field list, length-prefixed, would differ).
    ...(key.facts === null || key.facts === undefined ? [] : [key.facts]),
    // Schema v18, default false: only a sensitive key has the pair, so clearing or setting it in the store fails verification.
    ...(key.sensitive === true ? ['sensitive', 'true'] : []),
  ]);
  return createHmac('sha256', macKey).update(fields).digest();
}

export function instanceRowMac(macKey: Buffer, keychainId: string, instance: InstanceRowFields): Buffer {
  const fields = encodeFields([
    INSTANCE_ROW_LABEL,
    keychainId,
    instance.id,
    instance.keyId,
    instance.name,
    instance.version,
    instance.state,
    instance.sealVersion,
    instance.sealedMaterial === null ? 'no-material' : 'material',
    instance.createdAt,
    instance.activatedAt,
    instance.deactivatedAt,
    instance.destroyedAt,
    instance.destroyAt,
    instance.protectStopAt,
    instance.processStopAt,
    // Fields added after v1 enter the MAC only when set, each after its own label: a row without them keeps its MAC (no re-MAC at upgrade), and no two such fields can stand in for each other.
    ...optionalField('process-start-at', instance.processStartAt),
    ...instanceExtras(instance),
  ]);
  return createHmac('sha256', macKey).update(fields).digest();
}

/** A later optional field as [label, value], or nothing when it is unset. */
function optionalField(label: string, value: string | null | undefined): string[] {
  return value === undefined || value === null ? [] : [label, value];
}

/**
 * Instance fields added after v1, each as a (name, value) pair and only
 * when not its default (the value every row stored before it holds): a
 * name before each value keeps two extras from standing in for each other,
 * and the fixed order keeps the encoding canonical. encodeFields prefixes
 * every field with its length, so a list with pairs never encodes like the
 * v1 list without them.
 */
function instanceExtras(instance: InstanceRowFields): string[] {
  return [
    ...(instance.origin === 'generated' ? [] : ['origin', instance.origin]),
    ...(instance.revocationReason === null ? [] : ['revocationReason', instance.revocationReason]),
    ...(instance.compromisedAt === null ? [] : ['compromisedAt', instance.compromisedAt]),
    ...(instance.compromiseOccurredAt === null ? [] : ['compromiseOccurredAt', instance.compromiseOccurredAt]),
    // Default false (rows before schema v18): a served row set back to fresh gains the pair, a fresh one set to served loses it; either fails.
    ...(instance.fresh ? ['fresh', 'true'] : []),
  ];
}

function same(a: Buffer, b: Buffer | null | undefined): boolean {
  return b !== null && b !== undefined && a.length === b.length && timingSafeEqual(a, b);
}

const ALIAS_ROW_LABEL = 'strongroom/alias-row/v1';

export function aliasRowMac(macKey: Buffer, keychainId: string, alias: Omit<AliasRecord, 'rowMac'>): Buffer {
  return createHmac('sha256', macKey).update(encodeFields([ALIAS_ROW_LABEL, keychainId, alias.alias, alias.keyId, alias.updatedAt])).digest();
}

export function verifyAliasRow(macKey: Buffer, keychainId: string, alias: AliasRecord): AliasRecord {
  if (!same(aliasRowMac(macKey, keychainId, alias), alias.rowMac)) {
    throw new KeychainError('INTEGRITY_FAILURE', `the stored alias ${alias.alias} failed authentication: it was altered or moved outside the appliance`);
  }
  return alias;
}

export function verifyKeyRow(macKey: Buffer, keychainId: string, key: KeyRecord): KeyRecord {
  if (!same(keyRowMac(macKey, keychainId, key), key.rowMac)) {
    throw new KeychainError('INTEGRITY_FAILURE', `the stored row of key ${key.namespace}/${key.name} failed authentication: it was altered`, {
      details: { keyId: key.id },
    });
  }
  return key;
}

export function verifyInstanceRow(macKey: Buffer, keychainId: string, instance: InstanceRecord): InstanceRecord {
  if (!same(instanceRowMac(macKey, keychainId, instance), instance.rowMac)) {
    throw new KeychainError('INTEGRITY_FAILURE', `the stored row of instance ${instance.name} failed authentication: it was altered`, {
      details: { instanceId: instance.id },
    });
  }
  return instance;
}
