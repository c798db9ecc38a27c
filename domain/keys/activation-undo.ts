/**
 * Reversing an activation, for a KMIP batch sent with the Batch Error
 * Continuation Option Undo (docs/kmip.md §3.15). The activation itself
 * (instance-activation.ts) hands back an ActivationRecord: the instance and
 * key rows as they were, read and authenticated inside its transaction, and
 * the row MACs it wrote. The record lives only in the server's memory for
 * the length of one batch; no wire can supply one (the dispatcher's
 * internal UndoActivation takes it from the batch executor, never from
 * arguments), so no client can write dates or states of its choosing.
 *
 * Fail closed: the undo runs only if the rows are still exactly what the
 * activation wrote (their MACs cover every field the server decides from);
 * if anything changed in between (another request, a sweep), it is refused
 * and the activation stands. Only an in-place activation of the current
 * instance is undone: a pending successor's activation also moved the
 * current instance and deactivated the previous one, and is refused.
 */
import { KeychainError } from '../../common/errors';
import { applyInstanceChange, InstanceRecord, KeyRecord } from '../../storage/records';
import { instanceView, InstanceView } from '../views';
import { KeychainParts } from './key-rows';
import { moveNextRollover } from './instance-activation';

/** What one activation changed, captured by the server during it: what its undo restores, and what the rows must still be. */
export interface ActivationRecord {
  /** The instance row before the activation (authenticated when read). */
  readonly before: InstanceRecord;
  /** The row MAC the activation wrote on the instance. */
  readonly writtenInstanceMac: Buffer;
  /** The key row before the activation. */
  readonly keyBefore: KeyRecord;
  /** The key row MAC after the activation (unchanged unless an `auto` key's next rollover moved). */
  readonly writtenKeyMac: Buffer;
  /** False for a pending successor's activation, which this undo refuses. */
  readonly inPlace: boolean;
}

export class ActivationUndo {
  constructor(private readonly parts: KeychainParts) {}

  /** Puts the instance (and its key's next rollover) back as they were before the activation `record` describes. */
  undo(record: ActivationRecord, updatedAt: string): InstanceView {
    const { seal, rows, store } = this.parts;
    seal.requireUnsealed();
    const name = record.before.name;
    if (!record.inPlace) {
      throw new KeychainError('WRONG_STATE', `the activation of instance ${name} made it current in place of another instance: it cannot be undone; the activation stands`, { details: { instance: name } });
    }
    return store.transaction(() => {
      const found = store.getInstanceById(record.before.id);
      const foundKey = store.getKeyById(record.keyBefore.id);
      if (!found || !foundKey) throw changed(name);
      const instance = rows.checkedInstance(found);
      const key = rows.checkedKey(foundKey);
      // The rows are authenticated, so equal MACs mean equal rows: nothing changed them since the activation.
      if (!instance.rowMac.equals(record.writtenInstanceMac) || !key.rowMac.equals(record.writtenKeyMac) || key.currentInstanceId !== instance.id) throw changed(name);
      const { before } = record;
      const change = rows.stateChange(instance, {
        state: before.state,
        activatedAt: before.activatedAt,
        protectStopAt: before.protectStopAt,
        processStopAt: before.processStopAt,
      });
      store.updateInstanceState(change);
      if (key.nextRolloverAt !== record.keyBefore.nextRolloverAt) moveNextRollover(this.parts, key, record.keyBefore.nextRolloverAt, updatedAt);
      return instanceView(applyInstanceChange(instance, change), key.currentInstanceId);
    });
  }
}

function changed(name: string): KeychainError {
  return new KeychainError('WRONG_STATE', `instance ${name} changed after this batch activated it: the undo was refused and the activation stands`, { details: { instance: name } });
}
