/**
 * The invocation-count capability (storage/invocation-store.ts) in memory:
 * a map of marks, outside the transactional tables (a failed transaction
 * does not undo a reservation, as on SQLite, where it is its own commit).
 */
import { StorageError } from '../common/errors';
import { InvocationStore } from './invocation-store';

export class MemoryInvocations implements InvocationStore {
  private readonly marks = new Map<string, number>();

  constructor(private readonly assertOpen: () => void) {}

  invocationsReserved(instanceId: string): number {
    this.assertOpen();
    return this.marks.get(instanceId) ?? 0;
  }

  reserveInvocations(instanceId: string, count: number): number {
    this.assertOpen();
    if (!(Number.isSafeInteger(count) && count >= 1)) throw new StorageError('STORAGE_ERROR', 'invocation reservation: count must be a positive integer');
    const mark = (this.marks.get(instanceId) ?? 0) + count;
    this.marks.set(instanceId, mark);
    return mark;
  }
}
