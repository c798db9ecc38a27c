/**
 * The invocation-count capability (storage/invocation-store.ts) in memory:
 * a map of marks, outside the transactional tables (a failed transaction
 * does not undo a reservation, as on SQLite, where it is its own commit).
 */
import { assertRaise, InvocationMark, InvocationStore } from './invocation-store';

export class MemoryInvocations implements InvocationStore {
  private readonly marks = new Map<string, InvocationMark>();

  constructor(private readonly assertOpen: () => void) {}

  readMark(instanceId: string): InvocationMark | null {
    this.assertOpen();
    const mark = this.marks.get(instanceId);
    return mark === undefined ? null : { ...mark };
  }

  raiseMark(instanceId: string, next: (current: InvocationMark | null) => InvocationMark): number {
    this.assertOpen();
    const current = this.readMark(instanceId);
    const raised = next(current);
    assertRaise(current, raised);
    this.marks.set(instanceId, { ...raised });
    return raised.reserved;
  }
}
