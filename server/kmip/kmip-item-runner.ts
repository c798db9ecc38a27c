/**
 * One KMIP Batch Item through the one dispatcher (docs/kmip.md §3): the
 * KmipOperation for the item's Operation turns the payload into native
 * calls; each call is validated by the native schema, dispatched with the
 * connection's identity (identity → access → sealed → dual control →
 * operation → audit), and resolves only once its audit events are durable,
 * exactly as on the native wire. Every refusal becomes the item's outcome:
 * a StrongroomError's Result Reason comes from the one error table
 * (common/error-codes.ts, its `kmip` column); APPROVAL_REQUIRED becomes
 * Operation Pending with the approval request's id as the Asynchronous
 * Correlation Value (Poll and Cancel take it).
 */
import { asStrongroomError, StrongroomError } from '../../common/errors';
import { kmipReasonFor } from '../../common/error-codes';
import { ClientIdentity } from '../../domain/policy/identity';
import { Dispatcher } from '../../operations/dispatcher';
import { Request, RequestSource } from '../../operations/request';
import { BatchableOperationName, OperationArgs, validateArgs } from '../../protocol/op-schemas';
import { ItemOutcome, RunItem, Undo } from '../../protocol/kmip/kmip-batch-executor';
import { undoKindOf } from '../../protocol/kmip/batch-undo';
import { ActivationRecord } from '../../domain/keychain';
import { undoActivationStep } from '../../operations/undo-activation';
import { KmipMessageError } from '../../protocol/kmip/kmip-message-error';
import { KmipOperation, KmipOperationError, NativeCall } from '../../protocol/kmip/operations/kmip-operation';
import { wipeBuffers } from '../tls/connection';

export interface KmipItemRunnerOptions {
  readonly dispatcher: Dispatcher;
  readonly operations: ReadonlyMap<string, KmipOperation>;
  readonly identity: ClientIdentity;
  readonly source: RequestSource;
  /** A fresh request id for each native call (the audit trail's requestId). */
  readonly newRequestId: () => string;
  /** Faults that are not the client's doing, for the log. */
  readonly onInternalError: (err: unknown) => void;
  /** The server's clock and id source, for the operations (KmipOperationContext). */
  readonly nowMs: () => number;
  readonly newId: () => string;
}

export function kmipItemRunner(options: KmipItemRunnerOptions): RunItem {
  const { dispatcher, identity, source } = options;
  const served = [...options.operations.keys()];

  /** Runs one native request and waits for its audit events, as the native wire does. */
  const settle = async (run: (audits: Array<Promise<void>>) => unknown, wipe: () => void): Promise<unknown> => {
    const audits: Array<Promise<void>> = [];
    let value: unknown;
    let failure: unknown = null;
    try {
      value = await run(audits);
    } catch (err) {
      failure = err;
    } finally {
      wipe();
    }
    // As on the native wire: the answer waits for its audit events; if they cannot be written, the result is zeroed unsent (fail closed).
    try {
      // One event (a Get's) is awaited as it is, as the native wire does: Promise.all would add a promise and a tick per call.
      await (audits.length === 1 ? audits[0] : Promise.all(audits));
    } catch (auditError) {
      wipeBuffers(value);
      throw auditError;
    }
    if (failure !== null) throw failure;
    return value;
  };

  /** `captureActivation`: set for an item of a batch with Undo (batch-undo.ts), so an Activate hands back what it changed. */
  const callWith = (captureActivation?: (record: ActivationRecord) => void): NativeCall =>
    (async <Op extends BatchableOperationName>(op: Op, args: OperationArgs[Op]): Promise<unknown> => {
      // The native schema takes the Buffers as they are (protocol/schema.ts): the same limits as base64 on the JSON wire, without a base64 string of the material that could never be zeroed.
      const validated = validateArgs(op, args);
      const request = { id: options.newRequestId(), op, args: validated, meta: {}, identity, source } as Request;
      return settle((audits) => dispatcher.dispatch(request, audits, { captureActivation }), () => wipeBuffers(validated));
    }) as NativeCall;
  const call = callWith();

  /** The dispatcher's internal UndoActivation for each activation the item made, newest first; a refusal is the item's to keep. */
  const undoActivations = (records: readonly ActivationRecord[], major: number): Undo => async () => {
    for (const record of [...records].reverse()) {
      const step = undoActivationStep(record);
      const request = { id: options.newRequestId(), args: { instance: record.before.name }, meta: {}, identity, source };
      try {
        await settle((audits) => dispatcher.dispatchInternal(step, request, audits), () => undefined);
      } catch (err) {
        const outcome = outcomeOf(err, major, options.onInternalError);
        return { refused: outcome.status === 'OperationFailed' ? (outcome.message ?? outcome.reason) : 'the undo did not complete' };
      }
    }
    return {};
  };

  return async (item, request, idPlaceholder): Promise<ItemOutcome> => {
    const version = request.header.protocolVersion;
    const operation = options.operations.get(item.operation);
    if (operation === undefined) {
      return { status: 'OperationFailed', reason: 'OperationNotSupported', message: `${item.operation} is not served over KMIP here: Query lists the operations this server serves` };
    }
    const undoKind = request.header.batchErrorContinuationOption === 'Undo' ? undoKindOf(item.operation) : null;
    const activations: ActivationRecord[] = [];
    const itemCall = undoKind === 'captured' ? callWith((record) => activations.push(record)) : call;
    try {
      const payload = await operation.run(item.requestPayload, { version, header: request.header, call: itemCall, served, operations: options.operations, client: identity.name, nowMs: options.nowMs, newId: options.newId, idPlaceholder });
      if (undoKind === null) return { status: 'Success', payload };
      return { status: 'Success', payload, undo: undoKind === 'no-effect' ? async () => ({}) : undoActivations(activations, version.major) };
    } catch (err) {
      return outcomeOf(err, version.major, options.onInternalError);
    }
  };
}

/** A refusal → the item's outcome (never a thrown error: a bug is General Failure, logged, with no detail for the client). */
export function outcomeOf(err: unknown, major: number, onInternalError: (err: unknown) => void): ItemOutcome {
  if (err instanceof KmipOperationError) return { status: 'OperationFailed', reason: err.resultReason, message: err.message };
  if (err instanceof KmipMessageError) return { status: 'OperationFailed', reason: err.resultReason, message: err.message };
  const error: StrongroomError = asStrongroomError(err);
  if (error.code === 'APPROVAL_REQUIRED' && typeof error.details.requestId === 'string') {
    return { status: 'OperationPending', asynchronousCorrelationValue: Buffer.from(error.details.requestId, 'utf8') };
  }
  if (error.code === 'INTERNAL_ERROR') onInternalError(error.cause ?? error);
  return { status: 'OperationFailed', reason: kmipReasonFor(error.code, major), message: `${error.code}: ${error.message}` };
}
