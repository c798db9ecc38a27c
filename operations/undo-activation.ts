/**
 * UndoActivation: the dispatcher's internal step that reverses an
 * activation for a KMIP batch sent with Undo (docs/kmip.md §3.15). It is no
 * operation of any wire: it is not in the dispatch table, no schema decodes
 * it, Query does not list it; only the KMIP item runner reaches it, with the
 * ActivationRecord the server captured in memory while the same batch ran
 * Activate (domain/keys/activation-undo.ts). Like any operation it passes
 * the dispatcher: the identity is confirmed, the caller must still hold
 * `activate` on the key, a sealed keychain refuses it, its intent is durable
 * before it runs, and its outcome is audited as operation UndoActivation.
 */
import { ActivationRecord } from '../domain/keychain';
import { authorizeRef, OperationContext } from './context';

/** The name its audit events and metrics carry. */
export const UNDO_ACTIVATION = 'UndoActivation';
export type InternalOperationName = typeof UNDO_ACTIVATION;

/** An internal step, shaped like a table operation so the dispatcher runs it the same way. */
export interface InternalOperation {
  readonly name: InternalOperationName;
  readonly access: 'key';
  readonly changesState: true;
  run(args: { readonly instance: string }, ctx: OperationContext): unknown;
}

/** The undo of one captured activation; its arguments name only the instance (for the audit event), never the state restored. */
export function undoActivationStep(record: ActivationRecord): InternalOperation {
  return {
    name: UNDO_ACTIVATION,
    access: 'key',
    changesState: true,
    run: (args, ctx) => {
      // Authorised on the instance the record names, whatever the arguments say: they are only the event's label.
      authorizeRef(ctx, 'activate', { instance: record.before.name });
      return { instance: ctx.services.lifecycle.undoActivation(record) };
    },
  };
}
