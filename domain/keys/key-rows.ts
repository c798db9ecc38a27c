/**
 * The machinery every part of the keychain shares: reading key, instance and
 * alias rows back authenticated (row MACs under the key derived from the
 * keychain key), MACing the rows it writes, the seal binding (AAD) of an
 * instance's material, and resolving a reference (name, alias, instance name)
 * through a bounded cache of already-authenticated rows. A row that fails its
 * MAC is refused (INTEGRITY_FAILURE), never obeyed.
 */
import { encodeUsageLimit, UsageLimit } from '../usage-limits';
import { Clock, isoNow } from '../../common/clock';
import { KeychainError, ValidationError } from '../../common/errors';
import { deepFreeze } from '../../common/deep-freeze';
import { KeychainStore } from '../../storage/keychain-store';
import { AliasRecord, applyInstanceChange, InstanceRecord, InstanceStateChange, KeyRecord, MaterialOrigin } from '../../storage/records';
import { ZoneCalendar } from '../calendar';
import { IdSource } from '../ids';
import { openMaterial, SealBinding, sealMaterial } from '../instance-seal';
import { formatKeyName, parseKeyName } from '../key-names';
import { ResolveCache } from '../resolve-cache';
import { MaterialCache } from '../material-cache';
import { KeychainChanges, KeyInvalidation } from '../keychain-changes';
import { aliasRowMac, InstanceRowFields, instanceRowMac, KeyRowFields, keyRowMac, verifyAliasRow, verifyInstanceRow, verifyKeyRow } from '../row-mac';
import { usageStops } from '../usage-periods';
import { NO_USAGE_DATES, UsageDates, withGivenStops } from '../usage-dates';
import { instanceView, InstanceView, keyView, KeyView } from '../views';
import { KeychainSeal } from './keychain-seal';

export interface KeyRef {
  /** `namespace/name`; with no instance, the current instance is meant. */
  readonly fullName?: string;
  /** An instance name; alone it names that instance of whichever key owns it. */
  readonly instance?: string;
}

/** A key reference resolved to authenticated rows, with their views. */
export interface Resolved {
  readonly key: KeyRecord;
  readonly instance: InstanceRecord;
  readonly keyView: KeyView;
  readonly instanceView: InstanceView;
}

/** What the parts of the keychain share: ports, settings, the sealing state and the rows. */
export interface KeychainParts {
  readonly store: KeychainStore;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly timeZone: ZoneCalendar;
  readonly seal: KeychainSeal;
  readonly rows: KeyRows;
}

export class KeyRows {
  private readonly resolved: ResolveCache<Resolved>;
  /** Opened material of hot instances, zeroed whenever their key's rows change or the rows cache is dropped. */
  private readonly opened: MaterialCache;

  constructor(private readonly parts: Omit<KeychainParts, 'rows'>, changes: KeychainChanges) {
    // Tagged by key id: this process's own commit drops only the entries of the keys it touched.
    this.resolved = new ResolveCache<Resolved>(changes.keysStamp, undefined, (resolved) => resolved.key.id);
    this.opened = new MaterialCache(changes.keysStamp);
    changes.onKeys((invalidation) => this.invalidate(invalidation));
  }

  /** Drops every cached row and zeroes every opened material (at seal: they were authenticated under keys now gone). */
  forgetResolved(): void {
    this.resolved.clear();
    this.opened.clear();
  }

  /** The opened-material cache (its size; tests check its zeroing). */
  get openedMaterial(): MaterialCache {
    return this.opened;
  }

  /** References resolved and cached now (tests check what a change dropped). */
  get resolvedCount(): number {
    return this.resolved.size;
  }

  /** What a change dropped: the touched keys' entries (and every name lookup if names changed), or everything. */
  private invalidate(invalidation: KeyInvalidation): void {
    if (invalidation === 'everything') {
      this.forgetResolved();
      return;
    }
    // A name or alias that appeared or went may change what a cached name resolves to: rare, so drop every lookup.
    if (invalidation.names) this.resolved.clear();
    else this.resolved.forgetTags(invalidation.keyIds);
    this.opened.forgetKeys(invalidation.keyIds);
  }

  checkedKey(record: KeyRecord): KeyRecord {
    const unsealed = this.parts.seal.requireUnsealed();
    return verifyKeyRow(unsealed.macKey, unsealed.keychainId, record);
  }

  checkedInstance(record: InstanceRecord): InstanceRecord {
    const unsealed = this.parts.seal.requireUnsealed();
    return verifyInstanceRow(unsealed.macKey, unsealed.keychainId, record);
  }

  checkedAlias(record: AliasRecord): AliasRecord {
    const unsealed = this.parts.seal.requireUnsealed();
    return verifyAliasRow(unsealed.macKey, unsealed.keychainId, record);
  }

  keyMac(fields: KeyRowFields): Buffer {
    const unsealed = this.parts.seal.requireUnsealed();
    return keyRowMac(unsealed.macKey, unsealed.keychainId, fields);
  }

  aliasMac(fields: Omit<AliasRecord, 'rowMac'>): Buffer {
    const unsealed = this.parts.seal.requireUnsealed();
    return aliasRowMac(unsealed.macKey, unsealed.keychainId, fields);
  }

  /** A state change of `instance`, with the MAC of the row as it will be after it. */
  stateChange(instance: InstanceRecord, change: Omit<InstanceStateChange, 'instanceId' | 'rowMac'>): InstanceStateChange {
    const unsealed = this.parts.seal.requireUnsealed();
    // Every revoke, destroy, deactivation and rollover passes here: its plaintext is zeroed now, not at the next lookup.
    this.opened.forget(instance.id);
    const draft = { ...change, instanceId: instance.id, rowMac: Buffer.alloc(0) };
    const after = applyInstanceChange(instance, draft);
    return { ...draft, rowMac: instanceRowMac(unsealed.macKey, unsealed.keychainId, after) };
  }

  /**
   * A new instance row of `key` whose material is sealed under the current
   * keychain key. A PreActive one may carry its activation date in
   * `activatedAt` (instance-activation.ts), authenticated with the row.
   * `given`: usage dates set by its creator (domain/usage-dates.ts); a
   * given protect-stop date holds over a later derived one.
   * `origin`: whether the appliance drew `material` or a caller gave it.
   * `fresh`: KMIP Fresh (true: never served to a client; false only when a registering client said so).
   */
  newInstance(
    key: KeyRecord,
    version: number,
    material: Buffer,
    id = this.parts.ids.newId(),
    state: 'Active' | 'PreActive' = 'Active',
    now = isoNow(this.parts.clock),
    activatesAt: string | null = null,
    given: UsageDates & { readonly usageLimit?: UsageLimit | null } = NO_USAGE_DATES,
    origin: MaterialOrigin = 'generated',
    fresh = true,
  ): InstanceRecord {
    const unsealed = this.parts.seal.requireUnsealed();
    const draft = { id, keyId: key.id, version, sealVersion: unsealed.currentVersion };
    const fields: InstanceRowFields = {
      ...draft,
      name: this.parts.ids.newInstanceName(),
      state,
      sealedMaterial: sealMaterial(this.parts.seal.sealingKey(unsealed, draft.sealVersion), this.binding(key, draft), material),
      createdAt: now,
      activatedAt: state === 'Active' ? now : activatesAt,
      deactivatedAt: null,
      destroyedAt: null,
      destroyAt: null,
      ...withGivenStops(state === 'Active' ? usageStops(key, Date.parse(now), this.parts.timeZone) : { protectStopAt: null, processStopAt: null }, given),
      processStartAt: given.processStartAt,
      origin,
      revocationReason: null,
      compromisedAt: null,
      compromiseOccurredAt: null,
      usageLimit: encodeUsageLimit(given.usageLimit),
      fresh,
    };
    return { ...fields, rowMac: instanceRowMac(unsealed.macKey, unsealed.keychainId, fields) };
  }

  /** Opens an instance's sealed material (`sealed`, read from its authenticated row), or copies it from the opened cache. The caller zeroes the result. */
  openMaterial(key: KeyRecord, instance: InstanceRecord, sealed: Buffer): Buffer {
    const unsealed = this.parts.seal.requireUnsealed();
    return this.opened.open(instance.id, sealed, () => openMaterial(this.parts.seal.sealingKey(unsealed, instance.sealVersion), this.binding(key, instance), sealed), key.id);
  }

  /** The resolved reference, from the row cache when the store has not changed since. */
  resolve(ref: KeyRef): Resolved {
    this.parts.seal.requireUnsealed();
    const cacheKey = ref.instance !== undefined ? `i\u0000${ref.instance}\u0000${ref.fullName ?? ''}` : `n\u0000${ref.fullName ?? ''}`;
    return this.resolved.get(cacheKey, () => {
      const { key, instance } = this.resolveUncached(ref);
      const current = instance.id === key.currentInstanceId ? instance : this.currentInstanceOf(key);
      // Frozen: every request that hits the entry gets these very objects (and the wire keeps their JSON: protocol/frozen-json.ts).
      return { key, instance, keyView: deepFreeze(keyView(key, current)), instanceView: deepFreeze(instanceView(instance, key.currentInstanceId)) };
    });
  }

  /** The referenced key and instance read from the store now (what a write transaction must use). */
  resolveUncached(ref: KeyRef): { key: KeyRecord; instance: InstanceRecord } {
    const { store } = this.parts;
    if (ref.instance !== undefined) {
      const found = store.getInstanceByName(ref.instance);
      const instance = found ? this.checkedInstance(found) : null;
      const foundKey = instance ? store.getKeyById(instance.keyId) : null;
      const key = foundKey ? this.checkedKey(foundKey) : null;
      if (!instance || !key || (ref.fullName !== undefined && !sameKey(key, ref.fullName))) {
        throw new KeychainError('INSTANCE_NOT_FOUND', `no instance named "${ref.instance}"${ref.fullName ? ` of key ${ref.fullName}` : ''}`);
      }
      return { key, instance };
    }
    if (ref.fullName === undefined) throw new ValidationError('name a key, an instance, or both');
    const key = this.findKey(ref.fullName);
    return { key, instance: this.currentInstanceOf(key) };
  }

  /** A key by its name, or by an alias of it (aliases are authenticated rows too). */
  findKey(fullName: string): KeyRecord {
    const { store } = this.parts;
    const { namespace, name } = parseKeyName(fullName);
    const key = store.getKeyByName(namespace, name);
    if (key) return this.checkedKey(key);
    const canonical = formatKeyName({ namespace, name });
    const alias = store.getAlias(canonical);
    if (alias) {
      this.checkedAlias(alias);
      const target = store.getKeyById(alias.keyId);
      if (target) return this.checkedKey(target);
    }
    throw new KeychainError('KEY_NOT_FOUND', `no key named "${canonical}"`);
  }

  currentInstanceOf(key: KeyRecord): InstanceRecord {
    const current = this.parts.store.getInstanceById(key.currentInstanceId);
    if (!current) throw new KeychainError('STORAGE_CORRUPT', `key ${formatKeyName(key)} points at a missing current instance`);
    return this.checkedInstance(current);
  }

  private binding(key: KeyRecord, instance: Pick<InstanceRecord, 'id' | 'version' | 'sealVersion'>): SealBinding {
    const unsealed = this.parts.seal.requireUnsealed();
    return {
      keychainId: unsealed.keychainId,
      keyId: key.id,
      instanceId: instance.id,
      version: instance.version,
      algorithm: key.algorithm,
      sealVersion: instance.sealVersion,
    };
  }
}

function sameKey(key: KeyRecord, fullName: string): boolean {
  const parsed = parseKeyName(fullName);
  return parsed.namespace === key.namespace && parsed.name === key.name;
}
