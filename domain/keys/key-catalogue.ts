/**
 * The key catalogue: making keys (generated or registered material), and
 * finding and describing them by name, alias, instance name or id; listing
 * and counting keys; namespaces (key stores) and aliases. Every row it reads
 * back is authenticated (key-rows.ts); none of it opens material.
 */
import { randomFillSync } from 'node:crypto';
import { isoNow } from '../../common/clock';
import { KeychainError, ValidationError } from '../../common/errors';
import { canonicalFacts, readObjectFacts } from '../stored-objects';
import { wipe } from '../../common/secret';
import { InstanceRecord, KeyFilter, KeyRecord, MaterialOrigin, NamespaceSummary } from '../../storage/records';
import { algorithmInfo } from '../algorithms';
import { formatKeyName, parseKeyName } from '../key-names';
import { RolloverPolicy } from '../rollover-policy';
import { KeyRowFields } from '../row-mac';
import { checkUsageForFamily, defaultUsageMask } from '../usage-mask';
import { instanceView, InstanceView, keyView, KeyView } from '../views';
import { KeychainParts, KeyRef } from './key-rows';
import { nextRolloverAt } from './key-rollover';
import { parseActivationDate } from './instance-activation';
import { checkAttributes, checkMaterialLength, checkText, KeySpec, MAX_ATTRIBUTE_VALUE, MAX_DESCRIPTION } from './key-spec';
import { materialFacts, MaterialFacts } from './material-facts';
import { NO_USAGE_DATES } from '../usage-dates';

export interface KeyDescription {
  readonly key: KeyView;
  readonly instances: InstanceView[];
}

export class KeyCatalogue {
  constructor(private readonly parts: KeychainParts, private readonly namespaceDefaults: ReadonlyMap<string, RolloverPolicy>) {}

  /** Creates a key whose first instance's material the appliance generates. */
  createKey(spec: KeySpec): KeyDescription {
    const length = algorithmInfo(spec.algorithm).generateLength;
    if (length === null) {
      throw new ValidationError(`the appliance does not generate ${spec.algorithm} material; register it instead`);
    }
    const material = randomFillSync(Buffer.alloc(length));
    try {
      return this.insertKey(spec, material, null, 'generated');
    } finally {
      wipe(material);
    }
  }

  /** Creates a key from material the caller supplies. Does not zero `material`: the caller owns it. */
  registerKey(spec: KeySpec, material: Buffer): KeyDescription {
    checkMaterialLength(spec.algorithm, material);
    // A kept object's facts are read from its bytes here, before anything is stored: bytes that are not what the algorithm says are refused.
    const facts = readObjectFacts(spec.algorithm, material, spec.opaqueType);
    return this.insertKey(spec, material, facts === null ? null : canonicalFacts(facts), 'imported');
  }

  describeKey(fullName: string): KeyDescription {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    const key = rows.findKey(fullName);
    return describe(key, store.listInstances(key.id).map((i) => rows.checkedInstance(i)));
  }

  /**
   * SetCustomAttributes: `set` adds or replaces, `remove` takes away names
   * the key has (an absent one is refused, so a typo does not pass for
   * done); the result is held to the limits Create holds it to. The
   * attributes are in the key row's MAC like every other field. `description`,
   * when given, replaces the key's description ('' removes it).
   */
  setCustomAttributes(fullName: string, set: Readonly<Record<string, string>>, remove: readonly string[], description?: string): KeyDescription {
    const { seal, rows, store, clock } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const key = rows.findKey(fullName);
      const attributes: Record<string, string> = { ...key.customAttributes };
      for (const name of remove) {
        if (!Object.prototype.hasOwnProperty.call(attributes, name)) {
          throw new ValidationError(`${formatKeyName(key)} has no custom attribute "${name}"`, { details: { field: 'remove' } });
        }
        delete attributes[name];
      }
      const customAttributes = checkAttributes({ ...attributes, ...set });
      const updatedAt = isoNow(clock);
      const newDescription = description === undefined ? key.description : checkText('description', description, MAX_DESCRIPTION);
      store.updateKeyAttributes({ keyId: key.id, customAttributes, description: newDescription, updatedAt, rowMac: rows.keyMac({ ...key, customAttributes, description: newDescription, updatedAt }) });
      return this.describeKey(formatKeyName(key));
    });
  }

  /**
   * The full name of the key owning an instance, or null when no such
   * instance exists. Through the row cache, as a reference by name is: every
   * request by instance (the native `{instance}`, each KMIP Unique
   * Identifier) asks it before it is authorized, and reading and
   * authenticating both rows each time cost more than the rest of a Get.
   */
  keyNameOfInstance(instanceName: string): string | null {
    const { seal, rows } = this.parts;
    seal.requireUnsealed();
    try {
      return formatKeyName(rows.resolve({ instance: instanceName }).key);
    } catch (err) {
      if (err instanceof KeychainError && err.code === 'INSTANCE_NOT_FOUND') return null;
      throw err;
    }
  }

  /** The referenced instance's metadata (no material). */
  describeInstance(ref: KeyRef): InstanceView {
    this.parts.seal.requireUnsealed();
    return this.parts.rows.resolve(ref).instanceView;
  }

  /** What may be said of the referenced instance's material (keys/material-facts.ts), from its authenticated row. */
  describeMaterial(ref: KeyRef): MaterialFacts {
    this.parts.seal.requireUnsealed();
    const { key, instance } = this.parts.rows.resolve(ref);
    return materialFacts(key.algorithm, instance.origin, key.sensitive);
  }

  listKeys(filter: KeyFilter = {}): KeyView[] {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    return store.listKeys(filter).map((record) => {
      const key = rows.checkedKey(record);
      return keyView(key, rows.currentInstanceOf(key));
    });
  }

  countKeys(): number {
    return this.parts.store.countKeys();
  }

  /** The full name of a key by id; KEY_NOT_FOUND when absent. */
  keyNameById(keyId: string): string {
    this.parts.seal.requireUnsealed();
    const key = this.parts.store.getKeyById(keyId);
    if (!key) throw new KeychainError('KEY_NOT_FOUND', `no key with id ${keyId}`);
    return formatKeyName(this.parts.rows.checkedKey(key));
  }

  /** The real full name behind a name that may be an alias (what authorisation must check). */
  resolveName(fullName: string): string {
    return this.parts.rows.resolve({ fullName }).keyView.fullName; // the cached path: no query per request
  }

  /** Namespaces (key stores) with their key counts. */
  listNamespaces(): NamespaceSummary[] {
    this.parts.seal.requireUnsealed();
    return this.parts.store.listNamespaces();
  }

  /**
   * Removes a namespace: only when every key in it is destroyed (every
   * instance Destroyed or Destroyed-Compromised); its keys' metadata and
   * aliases go with it. Returns how many keys were removed.
   */
  removeNamespace(namespace: string): number {
    const { seal, store } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const summary = store.listNamespaces().find((n) => n.namespace === namespace);
      if (!summary) throw new KeychainError('KEY_NOT_FOUND', `no namespace "${namespace}"`);
      if (summary.liveKeys > 0) {
        throw new KeychainError('WRONG_STATE', `namespace "${namespace}" still has ${summary.liveKeys} key(s) with instances that are not destroyed; destroy them first`, {
          details: { namespace, liveKeys: summary.liveKeys },
        });
      }
      return store.deleteNamespace(namespace);
    });
  }

  /** Points `alias` (a full name that is not a key's) at the key `target` names; creates or moves it. */
  setAlias(alias: string, target: string): { alias: string; key: string } {
    const { seal, rows, store, clock } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const parsed = parseKeyName(alias);
      const canonical = formatKeyName(parsed);
      if (store.getKeyByName(parsed.namespace, parsed.name)) throw new KeychainError('KEY_EXISTS', `"${canonical}" is a key's name; an alias needs a name of its own`);
      const key = rows.findKey(target);
      const fields = { alias: canonical, keyId: key.id, updatedAt: isoNow(clock) };
      store.putAlias({ ...fields, rowMac: rows.aliasMac(fields) });
      return { alias: canonical, key: formatKeyName(key) };
    });
  }

  removeAlias(alias: string): { alias: string; key: string } {
    const { seal, store } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const canonical = formatKeyName(parseKeyName(alias));
      const removed = store.deleteAlias(canonical);
      const key = store.getKeyById(removed.keyId);
      return { alias: canonical, key: key ? formatKeyName(key) : removed.keyId };
    });
  }

  listAliases(): Array<{ alias: string; key: string }> {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    return store.listAliases().map((record) => {
      rows.checkedAlias(record);
      const key = store.getKeyById(record.keyId);
      return { alias: record.alias, key: key ? formatKeyName(rows.checkedKey(key)) : record.keyId };
    });
  }

  private insertKey(spec: KeySpec, material: Buffer, facts: string | null, origin: MaterialOrigin): KeyDescription {
    const { seal, rows, store, clock, ids, timeZone } = this.parts;
    seal.requireUnsealed();
    const { namespace, name } = parseKeyName(spec.fullName);
    const rollover: RolloverPolicy = spec.rollover ?? this.namespaceDefaults.get(namespace) ?? { kind: 'manual', cryptoperiod: null };
    if (spec.usageMask !== undefined) checkUsageForFamily(spec.usageMask, algorithmInfo(spec.algorithm).family);
    if (rollover.kind === 'auto' && algorithmInfo(spec.algorithm).generateLength === null) {
      throw new ValidationError(`${spec.algorithm} material cannot be generated by the appliance: such a key cannot roll over automatically`);
    }
    const now = isoNow(clock);
    const activatesAt = spec.activateAt === undefined ? null : parseActivationDate(spec.activateAt, clock.nowMs());
    // PreActive without a date (activate: false) waits for an Activate; with one, for the sweep too.
    const preActive = spec.activate === false || activatesAt !== null;
    const keyId = ids.newId();
    const instanceId = ids.newId();
    const fields: KeyRowFields = {
      id: keyId,
      namespace,
      name,
      algorithm: spec.algorithm,
      usageMask: spec.usageMask ?? defaultUsageMask(algorithmInfo(spec.algorithm).family),
      description: checkText('description', spec.description ?? '', MAX_DESCRIPTION),
      owner: checkText('owner', spec.owner ?? '', MAX_ATTRIBUTE_VALUE),
      customAttributes: checkAttributes(spec.customAttributes ?? {}),
      rolloverPolicy: rollover.kind,
      cryptoperiod: rollover.cryptoperiod,
      currentInstanceId: instanceId,
      // A PreActive key starts its cryptoperiod when it is activated.
      protectPeriod: spec.usagePeriods?.protectPeriod ?? null,
      processPeriod: spec.usagePeriods?.processPeriod ?? null,
      nextRolloverAt: preActive ? null : nextRolloverAt({ rolloverPolicy: rollover.kind, cryptoperiod: rollover.cryptoperiod }, clock.nowMs(), timeZone),
      createdAt: now,
      updatedAt: now,
      facts,
      sensitive: spec.sensitive === true,
    };
    const key: KeyRecord = { ...fields, rowMac: rows.keyMac(fields) };
    const instance: InstanceRecord = rows.newInstance(key, 1, material, instanceId, preActive ? 'PreActive' : 'Active', now, activatesAt, { ...(spec.usageDates ?? NO_USAGE_DATES), usageLimit: spec.usageLimit }, origin, spec.fresh ?? true);
    if (store.getAlias(formatKeyName({ namespace, name })) !== null) {
      throw new KeychainError('KEY_EXISTS', `"${formatKeyName({ namespace, name })}" is an alias; remove the alias or pick another name`);
    }
    store.createKey(key, instance);
    // Described from the rows just committed, not read back: on PostgreSQL a read is a round trip the event loop waits for.
    return describe(key, [instance]);
  }
}

/** A key and its instances (MAC-checked, or made here) as Create and Get describe them. */
function describe(key: KeyRecord, instances: readonly InstanceRecord[]): KeyDescription {
  const current = instances.find((i) => i.id === key.currentInstanceId);
  if (!current) throw new KeychainError('STORAGE_CORRUPT', `key ${formatKeyName(key)} points at a missing current instance`);
  return { key: keyView(key, current), instances: instances.map((i) => instanceView(i, key.currentInstanceId)) };
}
