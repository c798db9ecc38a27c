/**
 * The transport-neutral dispatcher: identity → access → dual-control gate (a sensitive request becomes an approval request, APPROVAL_REQUIRED) → operation. The native
 * JSON protocol uses it now; the KMIP endpoint will map its messages onto the
 * same table. Batch runs its items in order, each authorised on its own, and
 * one bad item becomes one item error.
 */
import { asStrongroomError, KeychainError, StrongroomError } from '../common/errors';
import { OperationName, validateBatchItem } from '../protocol/op-schemas';
import { DecodedRequest, RequestMeta } from '../protocol/request';
import { Args, OperationContext, Services } from './context';
import { Operation } from './operation';
import { assertAccess, assertLocalOperatorMay, assertServedWhileSealed, dualControlClassOf } from './access';
import { ClientIdentity } from '../domain/policy/identity';

export type ItemOutcome = { result: unknown } | { error: ReturnType<StrongroomError['toJSON']> };

/** Where a request came from, and where the audit promises of its operations are collected. */
export interface DispatchContext {
  readonly requestId: string | number;
  readonly source: string | null;
  /** The listener's promises (the audit trail's durability), which the response must wait for. */
  readonly audits: Array<Promise<void>>;
}

export interface Outcome {
  readonly identity: ClientIdentity;
  readonly op: OperationName;
  readonly args: Args;
  readonly meta: RequestMeta;
  readonly requestId: string | number;
  readonly source: string | null;
  readonly error: StrongroomError | null;
}

/** Called once per operation run (batch items included), for the audit trail; a returned promise delays the response. */
export type OutcomeListener = (outcome: Outcome) => Promise<void> | void;


function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class Dispatcher {
  private readonly table: ReadonlyMap<OperationName, Operation>;

  constructor(private readonly services: Services, operations: readonly Operation[], private readonly onOutcome: OutcomeListener = () => undefined) {
    this.table = new Map(operations.map((op) => [op.name, op]));
  }

  operationNames(): OperationName[] {
    return [...this.table.keys(), 'Batch'];
  }

  /**
   * Runs one request; throws (or rejects with) a StrongroomError for the
   * response's error. Most operations answer synchronously; a few (a sweep)
   * return a promise.
   */
  dispatch(identity: ClientIdentity, request: DecodedRequest, context: DispatchContext = { requestId: request.id, source: null, audits: [] }): unknown {
    if (request.op === 'Batch') return this.batch(identity, request, context);
    return this.run(identity, request.op, request.args, request.meta, context);
  }

  private batch(identity: ClientIdentity, request: DecodedRequest, context: DispatchContext): { items: ItemOutcome[] } {
    const items: ItemOutcome[] = [];
    for (const raw of request.args.items as unknown[]) {
      try {
        const item = validateBatchItem(raw);
        if (this.table.get(item.op)?.batchable === false) throw new KeychainError('INVALID_REQUEST', `${item.op} cannot run inside a Batch`);
        const result = this.run(identity, item.op, item.args, request.meta, context);
        if (isPromise(result)) {
          result.catch(() => undefined);
          throw new KeychainError('INVALID_REQUEST', `${item.op} cannot run inside a Batch`);
        }
        items.push({ result });
      } catch (err) {
        items.push({ error: asStrongroomError(err).toJSON() });
      }
    }
    return { items };
  }

  private notify(context: DispatchContext, outcome: Omit<Outcome, 'requestId' | 'source'>): void {
    const pending = this.onOutcome({ ...outcome, requestId: context.requestId, source: context.source });
    if (pending) context.audits.push(pending);
  }

  private run(identity: ClientIdentity, op: OperationName, args: Args, meta: RequestMeta, context: DispatchContext): unknown {
    try {
      const operation = this.table.get(op);
      if (!operation) throw new KeychainError('INVALID_REQUEST', `${op} is not available here`);
      assertAccess(operation, identity);
      const ctx: OperationContext = { identity, meta, services: this.services };
      assertLocalOperatorMay(operation, identity, args, ctx);
      assertServedWhileSealed(operation, this.services.keychain.isSealed);
      // The dual-control gate: a sensitive request is stored for officers' approval instead of run.
      const dualControl = dualControlClassOf(operation, args, ctx);
      if (dualControl !== null) {
        const approvals = this.services.approvals;
        throw approvals.approvalRequired(approvals.request({ operation: op, args, dualControlClass: dualControl, requester: identity }));
      }
      const result = operation.run(args, ctx);
      if (isPromise(result)) {
        return result.then(
          (value) => {
            this.notify(context, { identity, op, args, meta, error: null });
            return value;
          },
          (err: unknown) => {
            const error = asStrongroomError(err);
            this.notify(context, { identity, op, args, meta, error });
            throw error;
          },
        );
      }
      this.notify(context, { identity, op, args, meta, error: null });
      return result;
    } catch (err) {
      const error = asStrongroomError(err);
      this.notify(context, { identity, op, args, meta, error });
      throw error;
    }
  }
}
