/**
 * KMIP Fresh and Sensitive where material leaves the appliance (Get):
 * - Fresh: an instance is fresh until its material is first served to a
 *   client. The first Get that returns it turns the flag false in a write
 *   transaction that reads the row again, so two Gets at once (or two
 *   processes) make one change; every later Get finds it false in the
 *   authenticated row it already resolved and writes nothing. The write
 *   moves the store's change stamp, which drops the row and material caches
 *   (domain/resolve-cache.ts, material-cache.ts): no cached row can say
 *   fresh after it. The flag is turned false before the material leaves,
 *   and the material leaves only once the Get's audit event is durable (the
 *   dispatcher): a served instance is never reported fresh, and a Get whose
 *   event could not be written leaves it not fresh without serving it, the
 *   safe way to be wrong. The trail is appended by its own connection
 *   (domain/audit/audit-writer.ts), so the flag and the event cannot share
 *   one SQLite transaction; the Get's event (which names the instance) is
 *   the record of the first serving.
 * - Sensitive: a key created sensitive never has its material served in the
 *   clear, over either wire (SENSITIVE; KMIP Result Reason Sensitive).
 */
import { KeychainError } from '../../common/errors';
import { applyInstanceChange, InstanceRecord, KeyRecord } from '../../storage/records';
import { formatKeyName } from '../key-names';
import { KeychainParts } from './key-rows';

/** Refuses serving the material of a sensitive key in the clear. */
export function refuseIfSensitive(key: KeyRecord): void {
  if (key.sensitive) {
    throw new KeychainError('SENSITIVE', `${formatKeyName(key)} was created sensitive: its material is never served in the clear; use it through the appliance`, {
      details: { key: formatKeyName(key) },
    });
  }
}

/**
 * The instance row after its material was served: `instance` itself when it
 * was not fresh (no write), else the row with Fresh false, written now.
 */
export function markServed(parts: KeychainParts, instance: InstanceRecord): InstanceRecord {
  if (!instance.fresh) return instance;
  const { store, rows } = parts;
  return store.transaction(() => {
    // Read again under the write lock: another Get may have served it since this one resolved it.
    const found = store.getInstanceById(instance.id);
    if (found === null) throw new KeychainError('INSTANCE_NOT_FOUND', `no instance named "${instance.name}"`);
    const current = rows.checkedInstance(found);
    // A first serving is recorded a turn after the Get resolved and opened the instance (fresh-flag-group.ts): a
    // Destroy, a pending destruction, a Revoke or a compromise committed in between must refuse it, not follow it.
    const sameState = current.state === instance.state || replacedMeanwhile(instance, current);
    if (!sameState || current.destroyAt !== instance.destroyAt || !sameBytes(current.sealedMaterial, instance.sealedMaterial)) {
      throw new KeychainError('WRONG_STATE', `instance "${instance.name}" changed (${instance.state} → ${current.state}) while its Get waited for its first serving to be recorded: nothing was served; ask again`, {
        details: { instance: instance.name, state: current.state },
      });
    }
    if (!current.fresh) return current;
    const change = rows.stateChange(current, { state: current.state, fresh: false });
    store.updateInstanceState(change);
    return applyInstanceChange(current, change);
  });
}

/**
 * Deactivated meanwhile with no revocation: a rollover replaced it (or its
 * process-stop date came). Serving it is what a Get one moment earlier
 * would have done, and a Deactivated instance's material may still be
 * served; refusing made every Get that met a sweep fail. A revocation or a
 * compromise still refuses.
 */
function replacedMeanwhile(asResolved: InstanceRecord, now: InstanceRecord): boolean {
  return asResolved.state === 'Active' && now.state === 'Deactivated' && now.revocationReason === null && now.compromisedAt === null;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}
