/**
 * Key rollover: a new current instance (the previous one Deactivated but
 * still decrypting), by hand or by the scheduler when a key's cryptoperiod
 * ends; undoing the last renewal; a key's rollover policy and usage periods;
 * which keys are due; and when a key's next rollover falls (midnight in the
 * appliance's time zone at the end of its cryptoperiod).
 */
import { NO_USAGE_DATES } from '../usage-dates';
import { randomFillSync } from 'node:crypto';
import { isoNow } from '../../common/clock';
import { KeychainError, ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { InstanceRecord, KeyRecord } from '../../storage/records';
import { Algorithm, algorithmInfo } from '../algorithms';
import { ZoneCalendar } from '../calendar';
import { rolloverDueAt } from '../cryptoperiod';
import { formatKeyName } from '../key-names';
import { RolloverPolicy } from '../rollover-policy';
import { isStoredObject } from '../stored-objects';
import { UsagePeriods, usageStops } from '../usage-periods';
import type { KeyCatalogue, KeyDescription } from './key-catalogue';
import { KeychainParts } from './key-rows';
import { checkMaterialLength } from './key-spec';
import { InstanceActivation, parseActivationDate, pendingSuccessor } from './instance-activation';

/** The next scheduled rollover of a key whose current instance became active at `activatedMs`; null unless `auto`. */
export function nextRolloverAt(key: Pick<KeyRecord, 'rolloverPolicy' | 'cryptoperiod'>, activatedMs: number, timeZone: ZoneCalendar): string | null {
  if (key.rolloverPolicy !== 'auto' || key.cryptoperiod === null) return null;
  return new Date(rolloverDueAt(activatedMs, key.cryptoperiod, timeZone)).toISOString();
}

/** What a scheduled rollover did: the key (full name) and its new current instance. */
export interface ScheduledRollover {
  readonly key: string;
  readonly instance: string;
}

/** The key's current instance among its instances (read in the same transaction). */
function currentOf(key: KeyRecord, instances: readonly InstanceRecord[]): InstanceRecord {
  const current = instances.find((i) => i.id === key.currentInstanceId);
  if (!current) throw new KeychainError('STORAGE_CORRUPT', `key ${formatKeyName(key)} points at a missing current instance`);
  return current;
}

/** Most remembered next-rollover dates; a sweep needs one per cryptoperiod in use. */
const MAX_REMEMBERED_DUE_DATES = 64;

/**
 * nextRolloverAt, remembered per (cryptoperiod, instant, time zone): a sweep
 * rolls every key at the same instant, and the calendar walk (time-zone
 * offsets of every midnight in the period) cost a tenth of each rollover.
 */
class NextRollovers {
  private zone: ZoneCalendar | null = null;
  private readonly dates = new Map<string, string | null>();

  at(key: Pick<KeyRecord, 'rolloverPolicy' | 'cryptoperiod'>, activatedMs: number, timeZone: ZoneCalendar): string | null {
    if (key.rolloverPolicy !== 'auto' || key.cryptoperiod === null) return null;
    if (this.zone !== timeZone || this.dates.size >= MAX_REMEMBERED_DUE_DATES) {
      this.zone = timeZone;
      this.dates.clear();
    }
    const memo = `${key.cryptoperiod} ${activatedMs}`;
    let date = this.dates.get(memo);
    if (date === undefined) {
      date = nextRolloverAt(key, activatedMs, timeZone);
      this.dates.set(memo, date);
    }
    return date;
  }
}

export class KeyRollover {
  private readonly activation: InstanceActivation;
  private readonly nextRollovers = new NextRollovers();

  constructor(private readonly parts: KeychainParts, private readonly catalogue: KeyCatalogue) {
    this.activation = new InstanceActivation(parts);
  }

  /**
   * Manual rollover: a new instance becomes current, the previous current one
   * is Deactivated (it still decrypts and stays retrievable by name).
   * SECRET keys need the new material from the caller. With `activateAt`
   * (a future date) the new instance is a pending successor instead: PreActive,
   * not current, until that date (instance-activation.ts); the current
   * instance stays current and Active until then. With `expectedCurrent`
   * (an instance name), only if that instance is the key's current one.
   */
  rollover(fullName: string, material?: Buffer, activateAt?: string, expectedCurrent?: string): KeyDescription {
    const { seal, rows, store, clock } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const key = rows.findKey(fullName);
      // A kept object's facts were read from its one material (domain/stored-objects.ts): a new certificate or key pair is a new object.
      if (isStoredObject(key.algorithm)) {
        throw new ValidationError(`${formatKeyName(key)} is ${key.algorithm}, an object the appliance keeps: it is not rolled over; register the new one under another name`);
      }
      if (expectedCurrent !== undefined) {
        const current = rows.currentInstanceOf(key);
        if (current.name !== expectedCurrent) {
          throw new KeychainError('WRONG_STATE', `instance ${expectedCurrent} is not the current instance of ${formatKeyName(key)} (${current.name} is): only the current instance can be rolled over; rekey ${current.name}, or the key by its name`, {
            details: { instance: expectedCurrent, current: current.name },
          });
        }
      }
      const instances = store.listInstances(key.id).map((i) => rows.checkedInstance(i));
      const successor = pendingSuccessor(instances, key);
      if (successor !== null) {
        throw new KeychainError('WRONG_STATE', `${formatKeyName(key)} already has a pending rollover: instance ${successor.name} becomes current at ${successor.activatedAt ?? 'its activation'}; activate it now (strongroom key activate --instance ${successor.name}) or destroy it first`, {
          details: { instance: successor.name, activatesAt: successor.activatedAt },
        });
      }
      const current = currentOf(key, instances);
      if (current.state === 'PreActive' && current.activatedAt !== null) {
        throw new KeychainError('WRONG_STATE', `the current instance of ${formatKeyName(key)} is PreActive until ${current.activatedAt}: activate it (strongroom key activate) or destroy it before rolling the key over`, {
          details: { instance: current.name, activatesAt: current.activatedAt },
        });
      }
      const nowMs = clock.nowMs();
      this.rollKey(key, instances, material, nowMs, activateAt === undefined ? null : parseActivationDate(activateAt, nowMs));
      return this.catalogue.describeKey(formatKeyName(key));
    });
  }

  /**
   * The scheduler's rollover: rolls the key over if, read again inside the
   * transaction, its policy is still `auto` and its next rollover is at or
   * before `atMs`; else does nothing and returns null. Running it twice, or
   * again after a crash, never gives a key two new instances for one due date.
   * Answers only the key's name and its new current instance (what the sweep
   * reports and audits): describing the whole key again cost a sixth of a
   * rollover (a re-read and a MAC check of every instance).
   */
  rolloverIfDue(keyId: string, atMs: number): ScheduledRollover | null {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const found = store.getKeyById(keyId);
      if (!found) return null;
      const key = rows.checkedKey(found);
      if (key.rolloverPolicy !== 'auto' || key.nextRolloverAt === null || Date.parse(key.nextRolloverAt) > atMs) return null;
      // A successor already waits for its date: the cryptoperiod is over, so it becomes current now rather than a second new instance.
      // Read and authenticated once: the successor check, the previous instance and the next version all come from this list.
      const instances = store.listInstances(key.id).map((i) => rows.checkedInstance(i));
      const successor = pendingSuccessor(instances, key);
      if (successor !== null && successor.destroyAt === null) {
        this.activation.activate(key, successor, atMs);
        return { key: formatKeyName(key), instance: successor.name };
      }
      return { key: formatKeyName(key), instance: this.rollKey(key, instances, undefined, atMs, null).name };
    });
  }

  /**
   * Undoes the last renewal: the previous instance becomes current and
   * Active again, the current one is Deactivated. Allowed only while the
   * previous instance is exactly as the renewal left it (Deactivated at the
   * moment the current one was activated, material intact): the one
   * sanctioned return from Deactivated to Active, for correcting a mistaken
   * rollover. An `auto` key's next rollover then counts from the undo.
   */
  undoRollover(fullName: string): KeyDescription {
    const { seal, rows, store, clock, timeZone } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const key = rows.findKey(fullName);
      const instances = store.listInstances(key.id).map((i) => rows.checkedInstance(i));
      const current = instances.find((i) => i.id === key.currentInstanceId) as InstanceRecord;
      // The instance this rollover replaced: deactivated the moment the current one was activated.
      const previous = instances
        .filter((i) => i.version < current.version && i.deactivatedAt !== null && i.deactivatedAt === current.activatedAt)
        .pop();
      const undoable =
        current.state === 'Active' &&
        current.destroyAt === null &&
        previous !== undefined &&
        previous.state === 'Deactivated' &&
        previous.sealedMaterial !== null &&
        previous.destroyAt === null &&
        previous.deactivatedAt !== null &&
        previous.deactivatedAt === current.activatedAt;
      if (!undoable) {
        throw new KeychainError('WRONG_STATE', `the last renewal of ${formatKeyName(key)} cannot be undone: the previous instance is no longer as the renewal left it`);
      }
      const nowMs = clock.nowMs();
      const now = new Date(nowMs).toISOString();
      const next = nextRolloverAt(key, nowMs, timeZone);
      const movedKey = { ...key, currentInstanceId: previous.id, updatedAt: now, nextRolloverAt: next };
      store.moveCurrentInstance(key.id, previous.id, { updatedAt: now, nextRolloverAt: next, rowMac: rows.keyMac(movedKey) }, [
        // Re-activated now: a second undo cannot walk further back through older renewals.
        rows.stateChange(previous, { state: 'Active', activatedAt: now, deactivatedAt: null }),
        rows.stateChange(current, { state: 'Deactivated', deactivatedAt: now }),
      ]);
      return this.catalogue.describeKey(formatKeyName(key));
    });
  }

  /** Changes a key's rollover policy; an `auto` key's next rollover is counted from its current instance's activation. */
  /** Without a policy (only usage periods change), the key keeps the rollover policy it has. */
  setRolloverPolicy(fullName: string, requested: RolloverPolicy | undefined, usagePeriods?: UsagePeriods): KeyDescription {
    const { seal, rows, store, clock, timeZone } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const key = rows.findKey(fullName);
      const policy: RolloverPolicy = requested ?? { kind: key.rolloverPolicy, cryptoperiod: key.cryptoperiod };
      const current = rows.currentInstanceOf(key);
      const now = isoNow(clock);
      if (policy.kind === 'auto' && algorithmInfo(key.algorithm as Algorithm).generateLength === null) {
        throw new ValidationError(`${formatKeyName(key)} holds ${key.algorithm} material the appliance cannot generate: it cannot roll over automatically`);
      }
      const since = Date.parse((current.state === 'PreActive' ? null : current.activatedAt) ?? current.createdAt);
      // A PreActive key's cryptoperiod starts at activation, not now.
      const next =
        policy.kind === 'auto' && policy.cryptoperiod && current.state !== 'PreActive' && current.activatedAt !== null
          ? new Date(rolloverDueAt(since, policy.cryptoperiod, timeZone)).toISOString()
          : null;
      // New usage periods apply to instances activated from now on; existing instances keep their dates.
      const periods = usagePeriods ?? { protectPeriod: key.protectPeriod, processPeriod: key.processPeriod };
      usageStops(periods, since, timeZone); // validates the pair
      const updated = { ...key, rolloverPolicy: policy.kind, cryptoperiod: policy.cryptoperiod, nextRolloverAt: next, ...periods, updatedAt: now };
      store.updateKeyPolicy({
        keyId: key.id,
        rolloverPolicy: policy.kind,
        cryptoperiod: policy.cryptoperiod,
        nextRolloverAt: next,
        ...periods,
        updatedAt: now,
        rowMac: rows.keyMac(updated),
      });
      return this.catalogue.describeKey(formatKeyName(key));
    });
  }

  /** Keys due for rollover at `atMs` (ids and due dates), soonest first. */
  dueKeys(atMs: number, limit: number): Array<{ keyId: string; nextRolloverAt: string }> {
    this.parts.seal.requireUnsealed();
    return this.parts.store.listDueKeys(new Date(atMs).toISOString(), limit);
  }

  /**
   * Inside a transaction: a new current instance for `key`, dated `nowMs`;
   * the previous one is Deactivated. With `activatesAt`, a pending successor
   * (PreActive, not current) instead, and the key row is left as it is.
   * `instances` are the key's instances as read (and authenticated) in this
   * transaction. Returns the new instance.
   */
  private rollKey(key: KeyRecord, instances: readonly InstanceRecord[], material: Buffer | undefined, nowMs: number, activatesAt: string | null): InstanceRecord {
    const { seal, rows, store, ids, timeZone } = this.parts;
    seal.requireUnsealed();
    const generated = material === undefined;
    const origin = generated ? 'generated' : 'imported';
    const algorithm = key.algorithm as Algorithm;
    if (key.rolloverPolicy === 'none') {
      throw new KeychainError('WRONG_STATE', `${formatKeyName(key)} has rollover policy "none"; change its policy to roll it over`);
    }
    let fresh: Buffer;
    if (generated) {
      const length = algorithmInfo(algorithm).generateLength;
      if (length === null) {
        // Named for both entrances: the CLI's option and the wire's field.
        throw new ValidationError(
          `${formatKeyName(key)} holds ${algorithm} material the appliance cannot generate: give its new material (strongroom key rollover ${formatKeyName(key)} --from-file FILE, "-" for standard input; over the wire, ReKey's material)`,
          { details: { field: 'material', option: '--from-file' } },
        );
      }
      fresh = randomFillSync(Buffer.alloc(length));
    } else {
      checkMaterialLength(algorithm, material);
      fresh = material;
    }
    try {
      const previous = currentOf(key, instances);
      const version = Math.max(...instances.map((i) => i.version)) + 1;
      const now = new Date(nowMs).toISOString();
      if (activatesAt !== null) {
        const pending = rows.newInstance(key, version, fresh, ids.newId(), 'PreActive', now, activatesAt, NO_USAGE_DATES, origin);
        store.addPendingInstance(pending);
        return pending;
      }
      const instance = rows.newInstance(key, version, fresh, ids.newId(), 'Active', now, null, NO_USAGE_DATES, origin);
      const next = this.nextRollovers.at(key, nowMs, timeZone);
      const movedKey = { ...key, currentInstanceId: instance.id, updatedAt: now, nextRolloverAt: next };
      store.addCurrentInstance(
        instance,
        { updatedAt: now, nextRolloverAt: next, rowMac: rows.keyMac(movedKey) },
        previous.state === 'Active' ? rows.stateChange(previous, { state: 'Deactivated', deactivatedAt: now }) : undefined,
      );
      return instance;
    } finally {
      if (generated) wipe(fresh);
    }
  }
}
