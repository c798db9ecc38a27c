/**
 * Which KMIP operations a batch sent with the Batch Error Continuation
 * Option Undo may hold (KMIP 2.1 §9 Batch Error Continuation Option; Query's
 * Batch Undo Capability), and how each is undone (docs/kmip.md §3.15):
 *
 * - `captured`: Activate. The server captures in memory what the
 *   activation changed and reverses it through the dispatcher's internal
 *   UndoActivation step (operations/undo-activation.ts), which refuses when
 *   the instance changed in between.
 * - `no-effect`: reads that change nothing the server keeps (Check, Get
 *   Attributes, Get Attribute List, Locate, Query): undoing them is doing
 *   nothing, and they answer Operation Undone like the rest (as OASIS
 *   BL-M-2-21 expects of Check).
 *
 * Every other operation is refused in a batch with Undo before anything
 * runs (kmip-batch-executor.ts): a Get discloses material that cannot be
 * taken back, a Destroy or a Revoke cannot be reversed, a Create or Register
 * would need its object removed again, which this appliance does not do.
 */

export type UndoKind = 'captured' | 'no-effect';

const UNDO_KINDS: ReadonlyMap<string, UndoKind> = new Map<string, UndoKind>([
  ['Activate', 'captured'],
  ['Check', 'no-effect'],
  ['GetAttributes', 'no-effect'],
  ['GetAttributeList', 'no-effect'],
  ['Locate', 'no-effect'],
  ['Query', 'no-effect'],
]);

/** How an operation is undone in a batch with Undo; null when it cannot be. */
export function undoKindOf(operation: string): UndoKind | null {
  return UNDO_KINDS.get(operation) ?? null;
}

export function canUndo(operation: string): boolean {
  return UNDO_KINDS.has(operation);
}
