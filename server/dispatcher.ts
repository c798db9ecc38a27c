/**
 * The transport-neutral dispatcher: identity → access → operation. The native
 * JSON protocol uses it now; the KMIP endpoint will map its messages onto the
 * same table. Batch runs its items in order, each authorised on its own, and
 * one bad item becomes one item error.
 */
import { asStrongroomError, KeychainError, StrongroomError } from '../common/errors';
import { OperationName, validateBatchItem } from './protocol/op-schemas';
import { DecodedRequest, RequestMeta } from './protocol/request';
import { Args, OperationContext, Services } from './operations/context';
import { Operation } from './operations/operation';
import { ClientIdentity } from './policy/identity';

export type ItemOutcome = { result: unknown } | { error: ReturnType<StrongroomError['toJSON']> };

/** Called once per operation run (batch items included), for the audit trail. */
export type OutcomeListener = (event: { identity: ClientIdentity; op: OperationName; args: Args; meta: RequestMeta; error: StrongroomError | null }) => void;

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
  dispatch(identity: ClientIdentity, request: DecodedRequest): unknown {
    if (request.op === 'Batch') return this.batch(identity, request);
    return this.run(identity, request.op, request.args, request.meta);
  }

  private batch(identity: ClientIdentity, request: DecodedRequest): { items: ItemOutcome[] } {
    const items: ItemOutcome[] = [];
    for (const raw of request.args.items as unknown[]) {
      try {
        const item = validateBatchItem(raw);
        const result = this.run(identity, item.op, item.args, request.meta);
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

  private run(identity: ClientIdentity, op: OperationName, args: Args, meta: RequestMeta): unknown {
    try {
      const operation = this.table.get(op);
      if (!operation) throw new KeychainError('INVALID_REQUEST', `${op} is not available here`);
      if (operation.access === 'officer' && identity.role !== 'officer') {
        throw new KeychainError('PERMISSION_DENIED', `${op} is for officers; "${identity.name}" is ${identity.role === 'app' ? 'an app' : 'an auditor'}`);
      }
      if (operation.access === 'key' && identity.role === 'auditor') {
        throw new KeychainError('PERMISSION_DENIED', `auditors do not use keys; ${op} refused for "${identity.name}"`);
      }
      const ctx: OperationContext = { identity, meta, services: this.services };
      const result = operation.run(args, ctx);
      if (isPromise(result)) {
        return result.then(
          (value) => {
            this.onOutcome({ identity, op, args, meta, error: null });
            return value;
          },
          (err: unknown) => {
            const error = asStrongroomError(err);
            this.onOutcome({ identity, op, args, meta, error });
            throw error;
          },
        );
      }
      this.onOutcome({ identity, op, args, meta, error: null });
      return result;
    } catch (err) {
      const error = asStrongroomError(err);
      this.onOutcome({ identity, op, args, meta, error });
      throw error;
    }
  }
}
