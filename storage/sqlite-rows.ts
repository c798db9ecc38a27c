/**
 * The SQL of the SQLite keychain store and the mapping between its rows and
 * the records of storage/records.ts. Columns are aliased to record field
 * names; only custom attributes (JSON text) and booleans need converting.
 */
import { StorageError } from '../common/errors';
import { InstanceRecord, InstanceStateChange, KeyRecord, RolloverPolicyKind } from './records';

export const KEY_COLUMNS = `id, namespace, name, algorithm, usage_mask AS usageMask, description, owner,
  custom_attributes AS customAttributes, rollover_policy AS rolloverPolicy, cryptoperiod,
  current_instance_id AS currentInstanceId, next_rollover_at AS nextRolloverAt, protect_period AS protectPeriod,
  process_period AS processPeriod, created_at AS createdAt,
  updated_at AS updatedAt, facts, sensitive, row_mac AS rowMac`;

const INSTANCE_COLUMNS = `id, key_id AS keyId, name, version, state, sealed_material AS sealedMaterial,
  seal_version AS sealVersion, created_at AS createdAt, activated_at AS activatedAt,
  deactivated_at AS deactivatedAt, destroyed_at AS destroyedAt, destroy_at AS destroyAt,
  protect_stop_at AS protectStopAt, process_stop_at AS processStopAt, process_start_at AS processStartAt, origin,
  revocation_reason AS revocationReason, compromised_at AS compromisedAt,
  compromise_occurred_at AS compromiseOccurredAt, usage_limit AS usageLimit, fresh, row_mac AS rowMac`;

const WRAPPED_COLUMNS = `version, master_key_version AS masterKeyVersion, mechanism, wrapped, created_at AS createdAt`;

const HSM_SECRET_COLUMNS = `name, master_key_version AS masterKeyVersion, mechanism, wrapped_key AS wrappedKey, sealed, created_at AS createdAt`;

export const SQL = {
  getMeta: `SELECT keychain_id AS keychainId, created_at AS createdAt, token_label AS tokenLabel,
    token_serial AS tokenSerial FROM keychain_meta WHERE id = 1`,
  insertMeta: `INSERT INTO keychain_meta (id, keychain_id, created_at, token_label, token_serial)
    VALUES (1, @keychainId, @createdAt, @tokenLabel, @tokenSerial)`,
  listWrapped: `SELECT ${WRAPPED_COLUMNS} FROM keychain_keys ORDER BY version`,
  insertWrapped: `INSERT INTO keychain_keys (version, master_key_version, mechanism, wrapped, created_at)
    VALUES (@version, @masterKeyVersion, @mechanism, @wrapped, @createdAt)`,
  insertKey: `INSERT INTO keys (id, namespace, name, algorithm, usage_mask, description, owner, custom_attributes,
    rollover_policy, cryptoperiod, current_instance_id, next_rollover_at, protect_period, process_period, created_at, updated_at, facts, sensitive, row_mac)
    VALUES (@id, @namespace, @name, @algorithm, @usageMask, @description, @owner, @customAttributes,
    @rolloverPolicy, @cryptoperiod, @currentInstanceId, @nextRolloverAt, @protectPeriod, @processPeriod, @createdAt, @updatedAt, @facts, @sensitive, @rowMac)`,
  setCurrent: `UPDATE keys SET current_instance_id = @instanceId, updated_at = @updatedAt, row_mac = @rowMac,
    next_rollover_at = CASE WHEN @setNext THEN @nextRolloverAt ELSE next_rollover_at END WHERE id = @keyId`,
  updatePolicy: `UPDATE keys SET rollover_policy = @rolloverPolicy, cryptoperiod = @cryptoperiod, next_rollover_at = @nextRolloverAt,
    protect_period = @protectPeriod, process_period = @processPeriod,
    updated_at = @updatedAt, row_mac = @rowMac WHERE id = @keyId`,
  updateAttributes: `UPDATE keys SET custom_attributes = @customAttributes, description = @description, updated_at = @updatedAt, row_mac = @rowMac WHERE id = @keyId`,
  putAlias: `INSERT INTO aliases (alias, key_id, updated_at, row_mac) VALUES (@alias, @keyId, @updatedAt, @rowMac)
    ON CONFLICT (alias) DO UPDATE SET key_id = excluded.key_id, updated_at = excluded.updated_at, row_mac = excluded.row_mac`,
  getAlias: `SELECT alias, key_id AS keyId, updated_at AS updatedAt, row_mac AS rowMac FROM aliases WHERE alias = ?`,
  deleteAlias: `DELETE FROM aliases WHERE alias = ?`,
  listAliases: `SELECT alias, key_id AS keyId, updated_at AS updatedAt, row_mac AS rowMac FROM aliases ORDER BY alias`,
  listNamespaces: `SELECT k.namespace AS namespace, count(*) AS keys,
    sum(CASE WHEN EXISTS (SELECT 1 FROM key_instances i WHERE i.key_id = k.id AND i.state NOT IN ('Destroyed', 'DestroyedCompromised')) THEN 1 ELSE 0 END) AS liveKeys
    FROM keys k GROUP BY k.namespace ORDER BY k.namespace`,
  deleteNamespaceAliases: `DELETE FROM aliases WHERE key_id IN (SELECT id FROM keys WHERE namespace = ?)`,
  deleteNamespaceInstances: `DELETE FROM key_instances WHERE key_id IN (SELECT id FROM keys WHERE namespace = ?)`,
  deleteNamespaceKeys: `DELETE FROM keys WHERE namespace = ?`,
  listRetentionExpired: `SELECT i.id AS id FROM key_instances i JOIN keys k ON k.id = i.key_id
    WHERE i.state = 'Deactivated' AND i.deactivated_at <= ? AND i.destroy_at IS NULL AND i.sealed_material IS NOT NULL
      AND k.current_instance_id <> i.id
    ORDER BY i.deactivated_at, i.id LIMIT ?`,
  listDueProcessStops: `SELECT id AS instanceId, process_stop_at AS processStopAt FROM key_instances
    WHERE process_stop_at IS NOT NULL AND state = 'Active' AND process_stop_at <= ? ORDER BY process_stop_at, id LIMIT ?`,
  // A PreActive instance's activated_at is its activation date (domain/keys/instance-activation.ts).
  listDueActivations: `SELECT id AS instanceId, activated_at AS activateAt FROM key_instances
    WHERE state = 'PreActive' AND activated_at IS NOT NULL AND activated_at <= ? AND destroy_at IS NULL ORDER BY activated_at, id LIMIT ?`,
  listDueDestructions: `SELECT id AS instanceId, destroy_at AS destroyAt FROM key_instances
    WHERE destroy_at IS NOT NULL AND destroy_at <= ? ORDER BY destroy_at, id LIMIT ?`,
  listDue: `SELECT id AS keyId, next_rollover_at AS nextRolloverAt FROM keys
    WHERE next_rollover_at IS NOT NULL AND next_rollover_at <= ? ORDER BY next_rollover_at, id LIMIT ?`,
  getKeyById: `SELECT ${KEY_COLUMNS} FROM keys WHERE id = ?`,
  getKeyByName: `SELECT ${KEY_COLUMNS} FROM keys WHERE namespace = ? AND name = ?`,
  // One statement for every filter (a NULL parameter disables its condition),
  // so it is prepared once; LIMIT -1 means no limit.
  listKeys: `SELECT ${KEY_COLUMNS} FROM keys
    WHERE (@namespace IS NULL OR namespace = @namespace)
      AND (@glob IS NULL OR (namespace || '/' || name) GLOB @glob)
      AND (@algorithm IS NULL OR algorithm = @algorithm)
      AND (@attributes IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(@attributes) f
        WHERE NOT EXISTS (SELECT 1 FROM json_each(keys.custom_attributes) a WHERE a.key = f.key AND a.type = 'text' AND a.value GLOB f.value)))
    ORDER BY namespace, name LIMIT @limit OFFSET @offset`,
  countKeys: `SELECT count(*) AS n FROM keys`,
  countKeysByState: `SELECT i.state AS state, count(*) AS n FROM keys k JOIN key_instances i ON i.id = k.current_instance_id GROUP BY i.state`,
  countInstancesByState: `SELECT state, count(*) AS n FROM key_instances GROUP BY state`,
  insertInstance: `INSERT INTO key_instances (id, key_id, name, version, state, sealed_material, seal_version,
    created_at, activated_at, deactivated_at, destroyed_at, destroy_at, protect_stop_at, process_stop_at, process_start_at, origin,
    revocation_reason, compromised_at, compromise_occurred_at, usage_limit, fresh, row_mac)
    VALUES (@id, @keyId, @name, @version, @state, @sealedMaterial, @sealVersion, @createdAt, @activatedAt,
    @deactivatedAt, @destroyedAt, @destroyAt, @protectStopAt, @processStopAt, @processStartAt, @origin, @revocationReason, @compromisedAt, @compromiseOccurredAt, @usageLimit, @fresh, @rowMac)`,
  getInstanceById: `SELECT ${INSTANCE_COLUMNS} FROM key_instances WHERE id = ?`,
  getInstanceByName: `SELECT ${INSTANCE_COLUMNS} FROM key_instances WHERE name = ?`,
  listInstances: `SELECT ${INSTANCE_COLUMNS} FROM key_instances WHERE key_id = ? ORDER BY version`,
  // An absent optional field leaves its column as it is (set* = 0).
  updateInstance: `UPDATE key_instances SET state = @state,
    activated_at = CASE WHEN @setActivatedAt THEN @activatedAt ELSE activated_at END,
    deactivated_at = CASE WHEN @setDeactivatedAt THEN @deactivatedAt ELSE deactivated_at END,
    destroyed_at = CASE WHEN @setDestroyedAt THEN @destroyedAt ELSE destroyed_at END,
    destroy_at = CASE WHEN @setDestroyAt THEN @destroyAt ELSE destroy_at END,
    protect_stop_at = CASE WHEN @setProtectStopAt THEN @protectStopAt ELSE protect_stop_at END,
    process_stop_at = CASE WHEN @setProcessStopAt THEN @processStopAt ELSE process_stop_at END,
    revocation_reason = CASE WHEN @setRevocationReason THEN @revocationReason ELSE revocation_reason END,
    compromised_at = CASE WHEN @setCompromisedAt THEN @compromisedAt ELSE compromised_at END,
    compromise_occurred_at = CASE WHEN @setCompromiseOccurredAt THEN @compromiseOccurredAt ELSE compromise_occurred_at END,
    fresh = CASE WHEN @setFresh THEN @fresh ELSE fresh END,
    sealed_material = CASE WHEN @dropMaterial THEN NULL ELSE sealed_material END,
    row_mac = @rowMac
    WHERE id = @instanceId`,
  getUnsealPolicy: `SELECT binding, shares, threshold, created_at AS createdAt FROM unseal_policy WHERE id = 1`,
  insertUnsealPolicy: `INSERT INTO unseal_policy (id, binding, shares, threshold, created_at) VALUES (1, @binding, @shares, @threshold, @createdAt)`,
  rewrapKeychainKey: `UPDATE keychain_keys SET master_key_version = ?, wrapped = ? WHERE version = ?`,
  listHsmSecrets: `SELECT ${HSM_SECRET_COLUMNS} FROM hsm_sealed_secrets ORDER BY name`,
  getHsmSecret: `SELECT ${HSM_SECRET_COLUMNS} FROM hsm_sealed_secrets WHERE name = ?`,
  putHsmSecret: `INSERT INTO hsm_sealed_secrets (name, master_key_version, mechanism, wrapped_key, sealed, created_at)
    VALUES (@name, @masterKeyVersion, @mechanism, @wrappedKey, @sealed, @createdAt)
    ON CONFLICT (name) DO UPDATE SET master_key_version = excluded.master_key_version, mechanism = excluded.mechanism,
    wrapped_key = excluded.wrapped_key, sealed = excluded.sealed, created_at = excluded.created_at`,
  rewrapHsmSecret: `UPDATE hsm_sealed_secrets SET master_key_version = ?, wrapped_key = ? WHERE name = ?`,
} as const;

/** An instance row as selected: SQLite keeps Fresh as 0 or 1. */
export type InstanceRow = Omit<InstanceRecord, 'fresh'> & { fresh: number };

export const instanceFromRow = (row: InstanceRow): InstanceRecord => ({ ...row, fresh: row.fresh === 1 });

/** An instance record as the insert's parameters (SQLite binds no booleans; a record made before usage limits existed has none: NULL). */
export const instanceParams = (instance: InstanceRecord): InstanceRow => ({ ...instance, usageLimit: instance.usageLimit ?? null, fresh: instance.fresh ? 1 : 0 });

/** A keys row as selected (custom attributes still JSON). */
export type KeyRow = Omit<KeyRecord, 'customAttributes' | 'sensitive'> & { customAttributes: string; sensitive: number };

function parseAttributes(json: string, keyId: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new StorageError('STORAGE_CORRUPT', 'keychain store: a key has unreadable custom attributes', { cause: err, details: { keyId } });
  }
  const ok =
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
  if (!ok) {
    throw new StorageError('STORAGE_CORRUPT', 'keychain store: a key has malformed custom attributes', { details: { keyId } });
  }
  return value as Record<string, string>;
}

export function keyFromRow(row: KeyRow): KeyRecord {
  return {
    ...row,
    rolloverPolicy: row.rolloverPolicy as RolloverPolicyKind,
    customAttributes: parseAttributes(row.customAttributes, row.id),
    sensitive: row.sensitive === 1,
  };
}

export function keyParams(key: KeyRecord): Record<string, unknown> {
  return { ...key, customAttributes: JSON.stringify(key.customAttributes), sensitive: key.sensitive ? 1 : 0 };
}

export function changeParams(change: InstanceStateChange): Record<string, unknown> {
  const flag = (v: unknown): number => (v === undefined ? 0 : 1);
  return {
    instanceId: change.instanceId,
    state: change.state,
    setActivatedAt: flag(change.activatedAt),
    activatedAt: change.activatedAt ?? null,
    setDeactivatedAt: flag(change.deactivatedAt),
    deactivatedAt: change.deactivatedAt ?? null,
    setDestroyedAt: flag(change.destroyedAt),
    destroyedAt: change.destroyedAt ?? null,
    setDestroyAt: flag(change.destroyAt),
    destroyAt: change.destroyAt ?? null,
    setProtectStopAt: flag(change.protectStopAt),
    protectStopAt: change.protectStopAt ?? null,
    setProcessStopAt: flag(change.processStopAt),
    processStopAt: change.processStopAt ?? null,
    setRevocationReason: flag(change.revocationReason),
    revocationReason: change.revocationReason ?? null,
    setCompromisedAt: flag(change.compromisedAt),
    compromisedAt: change.compromisedAt ?? null,
    setCompromiseOccurredAt: flag(change.compromiseOccurredAt),
    compromiseOccurredAt: change.compromiseOccurredAt ?? null,
    setFresh: flag(change.fresh),
    fresh: change.fresh === true ? 1 : 0,
    dropMaterial: change.dropMaterial === true ? 1 : 0,
    rowMac: change.rowMac,
  };
}
