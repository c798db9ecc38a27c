/**
 * The transport-neutral dispatcher: identity → access → sealed → dual-control
 * gate (a sensitive request becomes an approval request, APPROVAL_REQUIRED) →
 * operation → audit notify. It takes the one Request type
 * (operations/request.ts) whatever wire it came over: the JSON codec makes
 * it today, the KMIP codec and the CLI's local mode will make the same.
 * Batch runs its items in order, each authorised on its own, and one bad
 * item (a decoding error kept by the codec, a refusal, a failure) becomes
 * one item error.
 */
import { asStrongroomError, StrongroomError } from '../common/errors';
import { OperationName } from '../protocol/op-schemas';
import { ProtocolError } from '../protocol/protocol-error';
import { OperationContext, Services } from './context';
import { OperationTable, TableOperationName } from './operation';
import { assertAccess, assertLocalOperatorMay, assertServedWhileSealed, dualControlClassOf } from './access';
import { ClientIdentity } from '../domain/policy/identity';
import { Request, RequestId, RequestMeta } from './request';

export type ItemOutcome = { result: unknown } | { error: ReturnType<StrongroomError['toJSON']> };

export interface Outcome {
  readonly identity: ClientIdentity;
  readonly op: OperationName;
  /** The operation's validated arguments, for the audit event's key and instance names (never their values' bytes). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly meta: RequestMeta;
  readonly requestId: RequestId;
  /** The peer's address (null for an in-process request). */
  readonly source: string | null;
  readonly error: StrongroomError | null;
}

/** Called once per operation run (batch items included), for the audit trail; a returned promise delays the response. */
export type OutcomeListener = (outcome: Outcome) => Promise<void> | void;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class Dispatcher {
  private readonly names: readonly OperationName[];

  constructor(private readonly services: Services, private readonly table: OperationTable, private readonly onOutcome: OutcomeListener = () => undefined) {
    this.names = [...Object.values(table).map((operation) => operation.name), 'Batch'];
  }

  operationNames(): OperationName[] {
    return [...this.names];
  }

  /**
   * Runs one request; throws (or rejects with) a StrongroomError for the
   * response's error. Most operations answer synchronously; a few (a sweep)
   * return a promise. `audits` collects the listener's promises (the audit
   * trail's durability), which the transport waits for before it answers.
   */
  dispatch(request: Request, audits: Array<Promise<void>> = []): unknown {
    if (request.op === 'Batch') return this.batch(request, audits);
    return this.run(request, audits);
  }

  private batch(request: Request<'Batch'>, audits: Array<Promise<void>>): { items: ItemOutcome[] } {
    const items: ItemOutcome[] = [];
    for (const entry of request.args.items) {
      try {
        // An item the codec could not decode answers its own error and runs nothing.
        if ('error' in entry) throw entry.error;
        if (this.table[entry.op].batchable === false) throw new ProtocolError('INVALID_REQUEST', `${entry.op} cannot run inside a Batch`);
        const result = this.run({ ...request, ...entry }, audits);
        if (isPromise(result)) {
          result.catch(() => undefined);
          throw new ProtocolError('INVALID_REQUEST', `${entry.op} cannot run inside a Batch`);
        }
        items.push({ result });
      } catch (err) {
        items.push({ error: asStrongroomError(err).toJSON() });
      }
    }
    return { items };
  }

  private notify<Op extends TableOperationName>(request: Request<Op>, audits: Array<Promise<void>>, error: StrongroomError | null): void {
    const { identity, op, args, meta } = request;
    const pending = this.onOutcome({ identity, op, args, meta, requestId: request.id, source: request.source.address ?? request.source.transport, error });
    if (pending) audits.push(pending);
  }

  private run<Op extends TableOperationName>(request: Request<Op>, audits: Array<Promise<void>>): unknown {
    try {
      const operation = this.table[request.op];
      // A handshake made while sealed could not verify the client's row: once unsealed, each request is held to it.
      this.services.identities.confirm(request.identity);
      assertAccess(operation, request.identity);
      const ctx: OperationContext = { identity: request.identity, meta: request.meta, services: this.services };
      assertLocalOperatorMay(operation, request.identity, request.args, ctx);
      assertServedWhileSealed(operation, this.services.keychain.isSealed);
      // The dual-control gate: a sensitive request is stored for officers' approval instead of run.
      const dualControl = dualControlClassOf(operation, request.args, ctx);
      if (dualControl !== null) {
        const approvals = this.services.approvals;
        // Bound to the key and instance the reference resolves to now: officers approve that, not a name that can be re-pointed.
        const binding = operation.approvalBinding?.(request.args, ctx) ?? null;
        throw approvals.approvalRequired(approvals.request({ operation: request.op, args: request.args, binding, dualControlClass: dualControl, requester: request.identity }));
      }
      const result = operation.run(request.args, ctx);
      if (isPromise(result)) {
        return result.then(
          (value) => {
            this.notify(request, audits, null);
            return value;
          },
          (err: unknown) => {
            const error = asStrongroomError(err);
            this.notify(request, audits, error);
            throw error;
          },
        );
      }
      this.notify(request, audits, null);
      return result;
    } catch (err) {
      const error = asStrongroomError(err);
      this.notify(request, audits, error);
      throw error;
    }
  }
}
