/**
 * The dispatcher's idempotent write (docs/protocol.md §3.5): a request with
 * an `idempotencyKey` runs its operation inside one store transaction that
 * first looks for the record of (client, key) and, when there is none,
 * writes the record of this run before it commits. So a change and its
 * record commit together or not at all, and a retry finds either both or
 * neither:
 * - a record with the same operation and arguments' digest: its stored
 *   result is the answer, nothing runs again (`replayed`, which the
 *   outcome event records as custom.idempotentReplay = "true");
 * - a record of another operation or other arguments: IDEMPOTENCY_KEY_REUSED;
 * - none: the operation runs and its record is written.
 * Two runs of one key at once (two appliances on one PostgreSQL): the
 * second's insert waits for the first's commit and writes nothing, or its
 * own change fails first on the first's (a name taken); either way its
 * transaction is undone and it answers from the record now committed.
 *
 * An operation that commits with its outcome event (the dispatcher's
 * OutcomeCommitter) writes its record inside that same transaction
 * (inTransaction): the change, its record and its event commit together.
 * Every operation that accepts a key does (test/operations/table.test.ts);
 * `run` is the same in a transaction of its own, for a caller without that
 * hook (the two-node tests on PostgreSQL).
 */
import { KeychainError, StrongroomError } from '../common/errors';
import { Keychain } from '../domain/keychain';
import { IdempotentAnswer, keyReused } from '../domain/idempotency-records';
import { ClientIdentity } from '../domain/policy/identity';
import { checkIdempotencyKey, REPLAY_MARK } from '../protocol/idempotency-key';
import { OperationName } from '../protocol/op-schemas';

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Thrown inside the transaction when another run of the key committed first: undoes this run's change. */
class RecordedMeanwhile extends KeychainError {
  constructor() {
    super('INTERNAL_ERROR', 'another run of this idempotency key committed first');
  }
}

export class IdempotentWrite {
  /** True once the answer came from a stored record (nothing ran). */
  replayed = false;
  private readonly argsDigest: Buffer;

  /**
   * Null when the request carries no key. Takes the arguments' digest now,
   * before the operation runs (a run zeroes the material it was given).
   */
  static of(request: { readonly op: OperationName; readonly args: unknown; readonly identity: ClientIdentity; readonly idempotencyKey?: string }, keychain: Keychain): IdempotentWrite | null {
    // The codec checked it already; a request that reached the dispatcher another way is held to the same rule.
    const key = checkIdempotencyKey(request.op, request.idempotencyKey);
    return key === undefined ? null : new IdempotentWrite(keychain, request.identity.name, key, request.op, request.args);
  }

  private constructor(
    private readonly keychain: Keychain,
    private readonly clientId: string,
    private readonly key: string,
    private readonly operation: OperationName,
    args: unknown,
  ) {
    this.argsDigest = keychain.idempotency.digest(operation, args);
  }

  /** Runs `operation` once for this key in a transaction of its own, or answers the stored result. */
  run(operation: () => unknown): unknown {
    try {
      return this.keychain.transaction(() => this.inTransaction(operation));
    } catch (err) {
      return this.answerAfterFailure(err);
    }
  }

  /**
   * Inside the caller's transaction (the dispatcher's OutcomeCommitter, or
   * run's own): the stored result, or `operation` (synchronous: it must
   * commit in this transaction) and its record. Throws when another run of
   * the key committed first: the caller's transaction must be undone, then
   * answerAfterFailure answers.
   */
  inTransaction(operation: () => unknown): unknown {
    const records = this.keychain.idempotency;
    const stored = records.find(this.clientId, this.key);
    if (stored !== null) return this.replay(stored);
    const result = operation();
    if (isPromise(result)) {
      result.catch(() => undefined);
      throw new KeychainError('INTERNAL_ERROR', `${this.operation} answers asynchronously: it cannot be recorded in its own transaction`);
    }
    if (!records.record(this.clientId, this.key, this.operation, this.argsDigest, result)) throw new RecordedMeanwhile();
    return result;
  }

  /**
   * After the transaction failed and was undone: another run of the key may
   * have committed while this one ran (its change failing on the other's, or
   * its insert finding the row), and then its record answers; otherwise `err`
   * is rethrown.
   */
  answerAfterFailure(err: unknown): unknown {
    if (err instanceof StrongroomError && (err.code === 'IDEMPOTENCY_KEY_REUSED' || err.code === 'INTEGRITY_FAILURE' || err.code === 'SEALED')) throw err;
    const stored = this.keychain.idempotency.find(this.clientId, this.key);
    if (stored !== null) return this.replay(stored);
    if (err instanceof RecordedMeanwhile) throw new KeychainError('INTERNAL_ERROR', 'the idempotency record another run committed could not be read back');
    throw err;
  }

  private replay(stored: IdempotentAnswer): unknown {
    if (stored.operation !== this.operation || !stored.argsDigest.equals(this.argsDigest)) throw keyReused(this.key, this.operation, stored);
    this.replayed = true;
    return stored.result;
  }
}

/** The meta of a replay's outcome event: the request's own, with custom.idempotentReplay = "true". */
export function replayMeta<M extends { readonly custom?: Readonly<Record<string, string>> }>(meta: M): M {
  const custom: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, meta.custom ?? {});
  custom[REPLAY_MARK] = 'true';
  return { ...meta, custom };
}

/** What a replayed answer names, for its outcome event: the key (a view's full name, or an alias's key) and the instance. */
export function replayTouched(result: unknown, touched: { key: string | null; instance: string | null }): void {
  const value = result as { key?: unknown; instance?: unknown } | null;
  const key = value?.key;
  touched.key = typeof key === 'string' ? key : typeof (key as { fullName?: unknown } | null | undefined)?.fullName === 'string' ? (key as { fullName: string }).fullName : null;
  const instance = value?.instance;
  touched.instance = typeof instance === 'string' ? instance : typeof (instance as { name?: unknown } | null | undefined)?.name === 'string' ? (instance as { name: string }).name : null;
}
