/**
 * Activation dates (KMIP 1.4 §3.24 Activation Date; SP 800-57 Pt 1 §7.1: a
 * key is Pre-activation until its activation date). A key created, or an
 * instance made by a rollover, with an activation date in the future is
 * PreActive until then; the server's sweep activates it when the date
 * comes (activateIfDue), and `key activate` may activate it earlier.
 *
 * Where the date lives: in the instance row's `activatedAt`, which a
 * PreActive instance otherwise leaves null. That column is already in the
 * row MAC (domain/row-mac.ts) and so in the trust ledger's set-hash, so an
 * edited date (to activate a key early, or never) fails authentication like
 * any other edit, with no new column and no MAC version change. Views show
 * it as `activatesAt` and keep `activatedAt` null until the instance is Active.
 *
 * A rollover with a future date makes a pending successor: a PreActive
 * instance that is not current. The current instance stays current (and
 * Active) until the successor activates; then, in one transaction, the
 * successor becomes current and Active and the previous current instance
 * is Deactivated, as an immediate rollover does. One successor at a time.
 */
import { KeychainError, ValidationError } from '../../common/errors';
import { applyInstanceChange, InstanceRecord, KeyRecord } from '../../storage/records';
import { formatKeyName } from '../key-names';
import { usageStops } from '../usage-periods';
import { withGivenStops } from '../usage-dates';
import { instanceView, InstanceView } from '../views';
import { KeychainParts } from './key-rows';
import { nextRolloverAt } from './key-rollover';
import type { ActivationRecord } from './activation-undo';

/** An ISO 8601 date-time with a zone (Z or ±hh:mm): a date without a zone would depend on the machine that typed it. */
const ISO_DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The activation date `text` as ISO UTC, if it is a date-time with a zone
 * and later than `nowMs`. A date in the past is refused rather than obeyed
 * (backdating an activation would start a cryptoperiod that never ran).
 */
export function parseActivationDate(text: string, nowMs: number): string {
  const ms = ISO_DATE_TIME_WITH_ZONE.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError(`activation date "${text}" is not an ISO 8601 date-time with a zone (e.g. 2027-01-01T00:00:00Z)`, { details: { field: 'activateAt' } });
  }
  if (ms <= nowMs) {
    throw new ValidationError(`activation date ${new Date(ms).toISOString()} is not in the future: leave it out to activate now`, { details: { field: 'activateAt' } });
  }
  return new Date(ms).toISOString();
}

/** The key's pending successor: a PreActive instance, not current, newer than the current one; null when none. */
export function pendingSuccessor(instances: readonly InstanceRecord[], key: KeyRecord): InstanceRecord | null {
  const current = instances.find((i) => i.id === key.currentInstanceId);
  return instances.find((i) => i.state === 'PreActive' && i.id !== key.currentInstanceId && current !== undefined && i.version > current.version) ?? null;
}

export class InstanceActivation {
  constructor(private readonly parts: KeychainParts) {}

  /** Instances whose activation date has come at `atMs`. */
  dueActivations(atMs: number, limit: number): Array<{ instanceId: string; activateAt: string }> {
    this.parts.seal.requireUnsealed();
    return this.parts.store.listDueActivations(new Date(atMs).toISOString(), limit);
  }

  /**
   * The sweep's step: activates the instance if, read again inside the
   * transaction, it is still PreActive with an activation date at or before
   * `atMs` and no destruction pending. It is dated `atMs` (when it really
   * became Active, as a caught-up rollover is). Null when there was nothing to do.
   */
  activateIfDue(instanceId: string, atMs: number): InstanceView | null {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    return store.transaction(() => {
      const found = store.getInstanceById(instanceId);
      if (!found) return null;
      const instance = rows.checkedInstance(found);
      const due = instance.state === 'PreActive' && instance.activatedAt !== null && Date.parse(instance.activatedAt) <= atMs && instance.destroyAt === null;
      if (!due) return null;
      const key = rows.checkedKey(store.getKeyById(instance.keyId) as KeyRecord);
      if (instance.id !== key.currentInstanceId && pendingSuccessor(store.listInstances(key.id).map((i) => rows.checkedInstance(i)), key)?.id !== instance.id) {
        // Passed over (a newer instance became current while its destruction was pending, then the destruction
        // was cancelled): it can never become current, so its date is cleared, or every check would list it again.
        store.updateInstanceState(rows.stateChange(instance, { state: instance.state, activatedAt: null }));
        return null;
      }
      return this.activate(key, instance, atMs);
    });
  }

  /**
   * Inside a transaction: makes `instance` Active at `atMs`. The current
   * instance is activated in place; a pending successor becomes current and
   * the previous current instance (if Active) is Deactivated at the same
   * instant, so undo-rollover recognises the pair. An `auto` key's next
   * rollover counts from this activation. `capture`, when given, receives
   * what the activation changed, for a batch's undo (activation-undo.ts).
   */
  activate(key: KeyRecord, instance: InstanceRecord, atMs: number, capture?: (record: ActivationRecord) => void): InstanceView {
    const { rows, store, timeZone } = this.parts;
    if (instance.state !== 'PreActive') throw new KeychainError('WRONG_STATE', `instance ${instance.name} is ${instance.state}, not PreActive`);
    if (instance.destroyAt !== null) throw new KeychainError('WRONG_STATE', `instance ${instance.name} is scheduled for destruction; cancel the destruction before activating it`);
    const at = new Date(atMs).toISOString();
    const activation = rows.stateChange(instance, { state: 'Active', activatedAt: at, ...withGivenStops(usageStops(key, atMs, timeZone), instance) });
    const next = key.rolloverPolicy === 'auto' ? nextRolloverAt(key, atMs, timeZone) : key.nextRolloverAt;
    if (instance.id === key.currentInstanceId) {
      store.updateInstanceState(activation);
      const writtenKeyMac = next !== key.nextRolloverAt ? moveNextRollover(this.parts, key, next, at) : key.rowMac;
      capture?.({ before: instance, writtenInstanceMac: activation.rowMac, keyBefore: key, writtenKeyMac, inPlace: true });
      return instanceView(applyInstanceChange(instance, activation), key.currentInstanceId);
    }
    const instances = store.listInstances(key.id).map((i) => rows.checkedInstance(i));
    if (pendingSuccessor(instances, key)?.id !== instance.id) {
      throw new KeychainError('WRONG_STATE', `instance ${instance.name} of ${formatKeyName(key)} is older than its current instance: it cannot become current; destroy it instead`, {
        details: { instance: instance.name },
      });
    }
    const previous = rows.currentInstanceOf(key);
    const moved = { ...key, currentInstanceId: instance.id, updatedAt: at, nextRolloverAt: next };
    store.moveCurrentInstance(key.id, instance.id, { updatedAt: at, nextRolloverAt: next, rowMac: rows.keyMac(moved) }, [
      activation,
      ...(previous.state === 'Active' ? [rows.stateChange(previous, { state: 'Deactivated', deactivatedAt: at })] : []),
    ]);
    capture?.({ before: instance, writtenInstanceMac: activation.rowMac, keyBefore: key, writtenKeyMac: rows.keyMac(moved), inPlace: false });
    return instanceView(applyInstanceChange(instance, activation), instance.id);
  }
}

/**
 * Writes a key row's next rollover date (an activation moves it; undoing
 * one puts it back) with the row's new MAC, which it returns.
 */
export function moveNextRollover(parts: KeychainParts, key: KeyRecord, next: string | null, updatedAt: string): Buffer {
  const { rows, store } = parts;
  const rowMac = rows.keyMac({ ...key, nextRolloverAt: next, updatedAt });
  store.updateKeyPolicy({
    keyId: key.id,
    rolloverPolicy: key.rolloverPolicy,
    cryptoperiod: key.cryptoperiod,
    nextRolloverAt: next,
    protectPeriod: key.protectPeriod,
    processPeriod: key.processPeriod,
    updatedAt,
    rowMac,
  });
  return rowMac;
}
