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
import { OperationContext, Services, Touched } from './context';
import { AnyOperation, DualControlClass, Operation, OperationTable, StoredRequest, TableOperationName } from './operation';
import { assertAccess, assertLocalOperatorMay, assertServedWhileSealed, dualControlClassOf } from './access';
import { ClientIdentity } from '../domain/policy/identity';
import { Request, RequestId, RequestMeta, Transport } from './request';
import { InternalOperation, InternalOperationName } from './undo-activation';
import { ActivationRecord } from '../domain/keychain';
import { IdempotentWrite, replayMeta, replayTouched } from './idempotency';
import { checkIdempotencyKey } from '../protocol/idempotency-key';

/** What only an in-process caller gives `dispatch`, beside the request: never from a wire. */
export interface DispatchOptions {
  /**
   * Set by the KMIP item runner for an item of a batch with Undo: an
   * Activate hands it what it changed (operations/undo-activation.ts).
   */
  readonly captureActivation?: (record: ActivationRecord) => void;
}

export type ItemOutcome = { result: unknown } | { error: ReturnType<StrongroomError['toJSON']> };

export interface Outcome {
  readonly identity: ClientIdentity;
  /** An operation of the wires, or an internal step (operations/undo-activation.ts). */
  readonly op: OperationName | InternalOperationName;
  /** The operation's validated arguments, for the audit event's key and instance names (never their values' bytes). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly meta: RequestMeta;
  readonly requestId: RequestId;
  /** The peer's address (null for an in-process request). */
  readonly source: string | null;
  /** The wire the request came over (the audit event's, and the metrics' `transport` label). */
  readonly transport: Transport;
  readonly error: StrongroomError | null;
  /** The key (canonical name) and instance the operation resolved and touched; null when it never got that far. */
  readonly touched: Touched | null;
  /** When the dispatcher took it, on the injected monotonic clock (milliseconds): its duration, for the metrics. */
  readonly startedMs: number;
}

/** Called once per operation run (batch items included), for the audit trail; a returned promise delays the response. */
export type OutcomeListener = (outcome: Outcome) => Promise<void> | void;

/** A state-changing request about to run: what its intent event records. */
export type Intent = Omit<Outcome, 'error' | 'touched' | 'startedMs'>;

/**
 * Records a state-changing request's intent; resolves once it is durable,
 * rejects (AUDIT_UNAVAILABLE) when it cannot be. The dispatcher runs the
 * change only after it resolved.
 */
export type IntentListener = (intent: Intent) => Promise<void>;

/**
 * Runs `change` and records the outcome `outcomeOf` makes of its result in
 * one store transaction (server/compose/audit-pipeline.ts commitWithEvent):
 * both durable when it returns, or neither done when it throws.
 */
export type OutcomeCommitter = <T>(change: () => T, outcomeOf: (result: T) => Outcome) => T;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class Dispatcher {
  private readonly names: readonly OperationName[];

  /**
   * `onIntent`, when given, is awaited before every operation marked
   * `changesState` runs (the server gives it; unit tests of the table may
   * not): so a change never commits without a durable record that it was
   * about to, even if its outcome event then cannot be written.
   * `monotonicMs` stamps each outcome's start (the server gives
   * performance.now for its request duration metrics; default: none).
   * `commitOutcome`, when given, runs an operation marked
   * `commitsWithItsEvent` and records its successful outcome in one
   * transaction, instead of the intent, the change and the outcome's group
   * commit; `onOutcome` then hears only of its failures.
   */
  constructor(
    private readonly services: Services,
    private readonly table: OperationTable,
    private readonly onOutcome: OutcomeListener = () => undefined,
    private readonly onIntent: IntentListener | null = null,
    private readonly monotonicMs: () => number = () => 0,
    private readonly commitOutcome: OutcomeCommitter | null = null,
  ) {
    this.names = [...Object.values(table).map((operation) => operation.name), 'Batch'];
  }

  operationNames(): OperationName[] {
    return [...this.names];
  }

  /**
   * Runs one request; throws (or rejects with) a StrongroomError for the
   * response's error. Most operations answer synchronously; a few (a sweep)
   * return a promise, and so does every state-changing one, which waits for
   * its intent event. `audits` collects the listener's promises (the audit
   * trail's durability), which the transport waits for before it answers.
   */
  dispatch(request: Request, audits: Array<Promise<void>> = [], options: DispatchOptions = {}): unknown {
    if (request.op === 'Batch') return this.batch(request, audits);
    return this.run(request, audits, this.table[request.op as TableOperationName], options);
  }

  /**
   * Items run in order. An item that changes state waits for its intent to
   * be durable, and the items after it run after it: the Batch answers
   * asynchronously from there, as after an item that may answer later (a
   * Get's first serving). Any other item that answers asynchronously is
   * refused inside a Batch.
   */
  private batch(request: Request<'Batch'>, audits: Array<Promise<void>>): { items: ItemOutcome[] } | Promise<{ items: ItemOutcome[] }> {
    const items: ItemOutcome[] = [];
    const entries = request.args.items;
    const from = (first: number): ItemOutcome[] | Promise<ItemOutcome[]> => {
      for (let i = first; i < entries.length; i++) {
        const entry = entries[i];
        try {
          // An item the codec could not decode answers its own error and runs nothing.
          if ('error' in entry) throw entry.error;
          const operation = this.table[entry.op];
          if (operation.batchable === false) throw new ProtocolError('INVALID_REQUEST', `${entry.op} cannot run inside a Batch`);
          // A key names one write: items never inherit one (the codec refuses a key on a Batch).
          const result = this.run({ ...request, ...entry, idempotencyKey: undefined }, audits);
          if (isPromise(result)) {
            if (!this.needsIntent(operation) && operation.answersLater !== true) {
              result.catch(() => undefined);
              throw new ProtocolError('INVALID_REQUEST', `${entry.op} cannot run inside a Batch`);
            }
            return result.then(
              (value) => {
                items.push({ result: value });
                return from(i + 1);
              },
              (err: unknown) => {
                items.push({ error: asStrongroomError(err).toJSON() });
                return from(i + 1);
              },
            );
          }
          items.push({ result });
        } catch (err) {
          items.push({ error: asStrongroomError(err).toJSON() });
        }
      }
      return items;
    };
    const done = from(0);
    return isPromise(done) ? done.then((all) => ({ items: all })) : { items: done };
  }

  /**
   * Runs an internal step (operations/undo-activation.ts) as an operation
   * of `identity`: the same checks, intent and audit as `dispatch`. No wire
   * reaches this: the step is built in-process from state the server captured.
   */
  dispatchInternal(step: InternalOperation, request: Omit<Request, 'op' | 'args'> & { readonly args: { readonly instance: string } }, audits: Array<Promise<void>> = []): unknown {
    // The step is typed apart from the table's operations; at run time it is one like them.
    return this.run({ ...request, op: step.name } as unknown as Request<TableOperationName>, audits, step as unknown as OperationTable[TableOperationName]);
  }

  private needsIntent(operation: AnyOperation): boolean {
    return this.onIntent !== null && operation.changesState === true;
  }

  private notify<Op extends TableOperationName>(request: Request<Op>, audits: Array<Promise<void>>, error: StrongroomError | null, touched: Touched, startedMs: number): void {
    const pending = this.onOutcome(outcomeOf(request, error, touched, startedMs));
    if (pending) audits.push(pending);
  }

  /** Records the refusal or failure and throws it. */
  private fail<Op extends TableOperationName>(request: Request<Op>, audits: Array<Promise<void>>, touched: Touched, startedMs: number, err: unknown): never {
    const error = asStrongroomError(err);
    this.notify(request, audits, error, touched, startedMs);
    throw error;
  }

  private run<Op extends TableOperationName>(request: Request<Op>, audits: Array<Promise<void>>, operation: OperationTable[Op] = this.table[request.op], options: DispatchOptions = {}): unknown {
    // Filled by authorizeName / authorizeRef as the operation resolves its key: the event names what was touched.
    const touched: Touched = { key: null, instance: null };
    const startedMs = this.monotonicMs();
    let ctx: OperationContext;
    try {
      // A handshake made while sealed could not verify the client's row: once unsealed, each request is held to it.
      this.services.identities.confirm(request.identity);
      assertAccess(operation, request.identity);
      ctx = { identity: request.identity, meta: request.meta, services: this.services, touched, awaitAudit: (pending) => audits.push(pending), captureActivation: options.captureActivation };
      assertLocalOperatorMay(operation, request.identity, request.args, ctx);
      assertServedWhileSealed(operation, this.services.keychain.isSealed, this.services.hsmHealth?.sealReason() ?? null);
      // The codec checked the key already; a request that reached the dispatcher another way is held to the same rule.
      checkIdempotencyKey(request.op, request.idempotencyKey);
      // A change the gate lets through commits with its event; one it stores for approval goes the intent's way.
      if (this.commitOutcome !== null && operation.commitsWithItsEvent === true && dualControlClassOf(operation, request.args, ctx) === null) {
        return this.commitWithOutcome(request, operation, ctx, audits, touched, startedMs, this.commitOutcome);
      }
    } catch (err) {
      return this.fail(request, audits, touched, startedMs, err);
    }
    if (!this.needsIntent(operation)) return this.execute(request, operation, ctx, audits, touched, startedMs);
    // A state change runs only once its intent is durable: no change can commit that the trail does not mention.
    const { identity, op, args, meta } = request;
    return this.onIntent!({ identity, op, args, meta, requestId: request.id, source: request.source.address ?? request.source.transport, transport: request.source.transport }).then(
      () => this.execute(request, operation, ctx, audits, touched, startedMs),
      (err: unknown) => this.fail(request, audits, touched, startedMs, err),
    );
  }

  /** The dual-control gate, then the operation; its outcome is recorded whichever way it ends. */
  private execute<Op extends TableOperationName>(request: Request<Op>, operation: Operation<Op>, ctx: OperationContext, audits: Array<Promise<void>>, touched: Touched, startedMs: number): unknown {
    let result: unknown;
    try {
      // The dual-control gate: a sensitive request is stored for officers' approval instead of run.
      const dualControl = dualControlClassOf(operation, request.args, ctx);
      if (dualControl !== null && operation.prepareApproval !== undefined) {
        // Checks that need the HSM or the disk (a backup verified in full) run before anything is stored.
        const prepared = operation.prepareApproval(request.args, ctx);
        return prepared.then(
          (storedForm) => {
            try {
              this.storeRequest(request, operation, ctx, audits, dualControl, () => storedForm);
            } catch (err) {
              return this.fail(request, audits, touched, startedMs, err);
            }
          },
          (err: unknown) => this.fail(request, audits, touched, startedMs, err),
        );
      }
      if (dualControl !== null) {
        // Arguments that hold material are stored in the operation's own form (sealed, bound to the request's id).
        const hook = operation.approvalArgs;
        this.storeRequest(request, operation, ctx, audits, dualControl, hook === undefined ? undefined : (stored: StoredRequest) => hook.store(request.args, stored, ctx));
      }
      // An idempotency key is recorded only where the change commits with its event (commitWithOutcome): every
      // operation that accepts one is marked so (test/operations/table.test.ts); one the gate stored is not recorded.
      result = operation.run(request.args, ctx);
    } catch (err) {
      return this.fail(request, audits, touched, startedMs, err);
    }
    if (isPromise(result)) {
      return result.then(
        (value) => {
          this.succeed(request, audits, touched, startedMs, value);
          return value;
        },
        (err: unknown) => this.fail(request, audits, touched, startedMs, err),
      );
    }
    this.succeed(request, audits, touched, startedMs, result);
    return result;
  }

  /**
   * The change and its outcome event in one transaction (throws, for fail(),
   * when either could not be done: then neither was). Nothing is pushed on
   * `audits`: the event is durable once the commit returns.
   */
  private commitWithOutcome<Op extends TableOperationName>(
    request: Request<Op>,
    operation: Operation<Op>,
    ctx: OperationContext,
    audits: Array<Promise<void>>,
    touched: Touched,
    startedMs: number,
    commit: OutcomeCommitter,
  ): unknown {
    // With an idempotency key, the record is written in this same transaction (operations/idempotency.ts).
    const idempotent = IdempotentWrite.of(request, this.services.keychain);
    try {
      return this.commitChangeAndOutcome(request, operation, ctx, touched, startedMs, commit, idempotent);
    } catch (err) {
      if (idempotent === null) throw err;
      // Another run of the key committed while this one ran: nothing of this one's is left, and the record answers.
      const result = idempotent.answerAfterFailure(err);
      replayTouched(result, touched);
      this.succeed({ ...request, meta: replayMeta(request.meta) }, audits, touched, startedMs, result);
      return result;
    }
  }

  private commitChangeAndOutcome<Op extends TableOperationName>(
    request: Request<Op>,
    operation: Operation<Op>,
    ctx: OperationContext,
    touched: Touched,
    startedMs: number,
    commit: OutcomeCommitter,
    idempotent: IdempotentWrite | null,
  ): unknown {
    return commit(
      () => {
        const result = idempotent === null ? operation.run(request.args, ctx) : idempotent.inTransaction(() => operation.run(request.args, ctx));
        if (isPromise(result)) {
          // A programming error (the flag on an asynchronous operation): undone here, before it could commit half-way.
          result.catch(() => undefined);
          throw new StrongroomError('INTERNAL_ERROR', `${request.op} answered asynchronously but is marked to commit with its event`);
        }
        return result;
      },
      (result) => {
        if (idempotent?.replayed === true) {
          // Nothing ran: the event says so, and names what the stored answer names.
          replayTouched(result, touched);
          return outcomeOf({ ...request, meta: replayMeta(request.meta) }, null, touched, startedMs);
        }
        if (touched.key !== null && touched.instance === null) touched.instance = instanceOf(result);
        return outcomeOf(request, null, touched, startedMs);
      },
    );
  }

  /** The dual-control gate's refusal: the request stored for officers' approval, APPROVAL_REQUIRED thrown. */
  private storeRequest<Op extends TableOperationName>(
    request: Request<Op>,
    operation: Operation<Op>,
    ctx: OperationContext,
    audits: Array<Promise<void>>,
    dualControlClass: DualControlClass,
    storedArgs: ((stored: StoredRequest) => Record<string, unknown>) | undefined,
  ): never {
    const approvals = this.services.approvals;
    // Bound to the key and instance the reference resolves to now: officers approve that, not a name that can be re-pointed.
    const binding = operation.approvalBinding?.(request.args, ctx) ?? null;
    try {
      throw approvals.approvalRequired(approvals.request({ operation: request.op, args: request.args, storedArgs, binding, dualControlClass, requester: request.identity }));
    } finally {
      // The stored request's own event is awaited like the refusal's.
      audits.push(...approvals.takeAudits());
    }
  }

  private succeed<Op extends TableOperationName>(request: Request<Op>, audits: Array<Promise<void>>, touched: Touched, startedMs: number, result: unknown): void {
    // The instance a Get, an Encrypt or a lifecycle change used, when the reference named none: its result says which.
    if (touched.key !== null && touched.instance === null) touched.instance = instanceOf(result);
    this.notify(request, audits, null, touched, startedMs);
  }
}

function outcomeOf<Op extends TableOperationName>(request: Request<Op>, error: StrongroomError | null, touched: Touched, startedMs: number): Outcome {
  const { identity, op, args, meta } = request;
  const { transport } = request.source;
  return { identity, op, args, meta, requestId: request.id, source: request.source.address ?? transport, transport, error, touched, startedMs };
}

/**
 * The instance name an operation's result names: `instance` as a name (the
 * crypto operations) or an instance view (Get, the lifecycle), else the
 * key's current instance (Create, ReKey: the one it made); or null.
 */
function instanceOf(result: unknown): string | null {
  const value = result as { instance?: unknown; key?: { currentInstance?: unknown } } | null;
  const instance = value?.instance;
  if (typeof instance === 'string') return instance;
  const name = (instance as { name?: unknown } | null | undefined)?.name;
  if (typeof name === 'string') return name;
  const current = value?.key?.currentInstance;
  return typeof current === 'string' ? current : null;
}
