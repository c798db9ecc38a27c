/**
 * The worker side of the synchronous bridge: one connection to the writable
 * primary, the state of the transaction on it, and one bounded answer per
 * request (bridge-protocol.ts). It runs in the bridge's worker thread
 * (bridge-worker.ts) but knows nothing of threads, so it reads as plain
 * async code.
 *
 * Rules it keeps:
 * - every statement, BEGIN (with its wait for the writer lock) and COMMIT
 *   has a deadline; when it passes, the connection is destroyed (a query
 *   left running would block the next one) and the call fails;
 * - a broken connection is dropped and the next call finds the primary
 *   again, but never inside a transaction: once the connection of an open
 *   transaction is lost, every request but a rollback fails until the
 *   caller rolls back (the server has already discarded the transaction;
 *   running the next statement on a new connection outside it would be a
 *   silent, partial retry);
 * - a write transaction takes `pg_advisory_xact_lock(writerLockKey)` at
 *   BEGIN under READ COMMITTED, so writers are serialised across every node
 *   of the cluster as SQLite's BEGIN IMMEDIATE serialises processes, and each
 *   of its statements sees everything committed before it got the lock (under
 *   REPEATABLE READ the snapshot would date from before the wait). A read
 *   transaction is REPEATABLE READ READ ONLY: one consistent snapshot, no lock;
 * - COMMIT's answer is checked: PostgreSQL answers a COMMIT of a transaction
 *   that an earlier error aborted with "ROLLBACK", not an error;
 * - a connection lost during COMMIT is STORAGE_COMMIT_UNKNOWN, never success
 *   nor plain failure.
 */
import { systemTimers, Timers } from '../../common/timers';
import { BridgeFailure, BridgeReply, BridgeRequest, BridgeSettings, BridgeStep, QueryResult } from './bridge-protocol';
import { lostConnection, mapPgError } from './pg-errors';
import type { PgSession } from './pg-session';
import { LocatePrimary, makePrimaryLocator } from './primary-locator';

const SAVEPOINT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

class DeadlinePassed extends Error {}

/** A failure the core raises itself (state errors), already in wire form. */
class Refusal extends Error {
  constructor(readonly failure: BridgeFailure) {
    super(failure.message);
  }
}

export class BridgeCore {
  private session: PgSession | null = null;
  /** 0: no transaction; 1: BEGIN; n > 1: n - 1 savepoints inside it. */
  private depth = 0;
  /** The open savepoints' names, outermost first (depth is 1 + their count inside a transaction). */
  private savepoints: string[] = [];
  /** Set when the open transaction's connection was lost: why. Cleared by the rollback. */
  private lost: BridgeFailure | null = null;
  private readonly locate: LocatePrimary;

  constructor(private readonly settings: BridgeSettings, private readonly timers: Timers = systemTimers, locate?: LocatePrimary) {
    this.locate = locate ?? makePrimaryLocator(settings, timers);
  }

  /** Answers one request; never throws. */
  async handle(req: BridgeRequest): Promise<BridgeReply> {
    if (req.kind === 'batch') return this.batch(req.id, req.steps);
    try {
      const result = await this.dispatch(req);
      return result === undefined ? { id: req.id, ok: true } : { id: req.id, ok: true, result };
    } catch (err) {
      if (err instanceof Refusal) return { id: req.id, ok: false, failure: err.failure };
      return { id: req.id, ok: false, failure: { code: 'STORAGE_ERROR', message: `keychain store: bridge fault in ${req.kind} (${String(err)})`, details: { operation: req.kind } } };
    }
  }

  /**
   * Several steps in one exchange, in order, stopping at the first failure
   * (the later ones are not run). When the batch was to end the transaction
   * with COMMIT, a failure before it rolls the transaction back here: the
   * caller counts the transaction as ended, and PostgreSQL would have
   * answered that COMMIT with ROLLBACK anyway.
   */
  private async batch(id: number, steps: readonly BridgeStep[]): Promise<BridgeReply> {
    const results: Array<QueryResult | null> = [];
    for (let at = 0; at < steps.length; at++) {
      const step = steps[at];
      const reply = await this.handle({ ...step, id } as BridgeRequest);
      if (!reply.ok) {
        const endsTransaction = steps.slice(at + 1).some((later) => later.kind === 'commit');
        if (endsTransaction && this.depth > 0) await this.rollback().catch(() => undefined);
        return { id, ok: false, failure: reply.failure, failedStep: at };
      }
      results.push(reply.result ?? null);
    }
    return { id, ok: true, results };
  }

  private async dispatch(req: BridgeRequest): Promise<QueryResult | undefined> {
    switch (req.kind) {
      case 'open':
        await this.ensureSession('open');
        return undefined;
      case 'query': {
        this.refuseIfLost('query');
        const result = await this.run('query', req.sql, req.params);
        if (req.expect !== undefined && result.rows[0]?.[result.fields[0]] !== req.expect.firstValue) throw new Refusal(req.expect.failure);
        return result;
      }
      case 'begin':
        return this.begin(req.write);
      case 'savepoint':
        this.needTransaction('savepoint');
        this.refuseIfLost('savepoint');
        await this.run('savepoint', `SAVEPOINT ${savepoint(req.name)}`);
        this.savepoints.push(req.name);
        this.depth++;
        return undefined;
      case 'release': {
        this.needTransaction('release', 2);
        this.refuseIfLost('release');
        const at = this.openSavepoint('release', req.name);
        await this.run('release', `RELEASE SAVEPOINT ${savepoint(req.name)}`);
        this.closeSavepointsFrom(at);
        return undefined;
      }
      case 'rollbackTo': {
        this.needTransaction('rollbackTo', 2);
        const at = this.openSavepoint('rollbackTo', req.name);
        // A lost transaction is already gone: rolling part of it back is a no-op, and it stays lost.
        if (this.lost === null) await this.run('rollbackTo', `ROLLBACK TO SAVEPOINT ${savepoint(req.name)}; RELEASE SAVEPOINT ${savepoint(req.name)}`);
        this.closeSavepointsFrom(at);
        return undefined;
      }
      case 'commit':
        return this.commit();
      case 'rollback':
        return this.rollback();
      case 'batch':
        // handle() runs batches; one inside another is not a thing the main side sends.
        throw refusal('STORAGE_ERROR', 'batch', 'a batch cannot hold another batch');
      case 'close':
        await this.dropSession();
        this.depth = 0;
        this.savepoints = [];
        this.lost = null;
        return undefined;
    }
  }

  private async begin(write: boolean): Promise<undefined> {
    if (this.depth > 0) throw refusal('STORAGE_ERROR', 'begin', 'a transaction is already open on this bridge (nest with a savepoint)');
    await this.ensureSession('begin');
    const sql = write
      ? `BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(this.settings.writerLockTimeoutMs))}; SELECT pg_advisory_xact_lock(${lockKey(this.settings.writerLockKey)})`
      : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
    try {
      await this.run('begin', sql, undefined, this.settings.statementTimeoutMs + this.settings.writerLockTimeoutMs);
    } catch (err) {
      // BEGIN ran but the lock wait failed: end that transaction before reporting.
      if (this.session !== null) await this.run('begin', 'ROLLBACK').catch(() => undefined);
      this.lost = null;
      throw err;
    }
    this.depth = 1;
    this.savepoints = [];
    return undefined;
  }

  private async commit(): Promise<undefined> {
    this.needTransaction('commit');
    if (this.depth > 1) throw refusal('STORAGE_ERROR', 'commit', `${this.depth - 1} savepoint(s) still open: release them before COMMIT`);
    const lost = this.lost;
    this.depth = 0;
    this.savepoints = [];
    this.lost = null;
    if (lost !== null) throw new Refusal({ ...lost, message: `${lost.message}; nothing was committed`, details: { ...lost.details, operation: 'commit' } });
    // A COMMIT whose wait for the synchronous standby is cancelled (pg_cancel_backend, or a
    // statement_timeout: the session's is set above the bridge's own COMMIT deadline so that it
    // cannot fire first, primary-locator.ts) still answers COMMIT, with only a WARNING saying it
    // committed locally and may not be replicated: that is not an acknowledgement a failover keeps.
    const warnings: string[] = [];
    const session = await this.ensureSession('commit');
    const onNotice = (notice: { message?: string }): void => {
      warnings.push(String(notice.message ?? ''));
    };
    session.client.on('notice', onNotice);
    let result: QueryResult & { command?: string };
    try {
      result = await this.run('commit', 'COMMIT');
    } catch (err) {
      const failure = err instanceof Refusal ? err.failure : undefined;
      if (failure?.code === 'STORAGE_UNAVAILABLE' || failure?.code === 'CLUSTER_NOT_PRIMARY') {
        // A node shutting down during the synchronous wait has committed locally: unknown, too.
        throw refusal('STORAGE_COMMIT_UNKNOWN', 'commit', `the connection was lost while COMMIT was in flight (${String(failure.details.reason ?? failure.details.pgCode ?? '')}): the transaction may or may not have committed; read the state again before retrying`);
      }
      throw err;
    } finally {
      session.client.off('notice', onNotice);
    }
    if (warnings.some((w) => /synchronous replication/i.test(w))) {
      throw refusal('STORAGE_COMMIT_UNKNOWN', 'commit', 'PostgreSQL committed locally but its wait for the synchronous standby was cancelled: the commit may not survive a failover; read the state again before reporting it done');
    }
    if (result.command !== 'COMMIT') {
      throw refusal('STORAGE_ERROR', 'commit', `PostgreSQL answered COMMIT with ${String(result.command)}: an earlier statement had failed, so the whole transaction was rolled back and nothing was committed`);
    }
    return undefined;
  }

  private async rollback(): Promise<undefined> {
    const wasLost = this.lost !== null;
    const open = this.depth > 0;
    this.depth = 0;
    this.savepoints = [];
    this.lost = null;
    if (!open || wasLost || this.session === null) return undefined;
    try {
      await this.run('rollback', 'ROLLBACK');
    } catch (err) {
      // A connection that broke took the transaction with it: rolled back either way.
      if (this.session !== null) throw err;
    }
    return undefined;
  }

  /** One statement on the session, bounded; maps errors and drops a broken connection. */
  private async run(operation: string, sql: string, params?: readonly unknown[], timeoutMs = this.settings.statementTimeoutMs): Promise<QueryResult & { command?: string }> {
    const session = await this.ensureSession(operation);
    let timer: { cancel(): void } | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = this.timers.after(timeoutMs, () => reject(new DeadlinePassed()));
    });
    const query = session.client.query({ text: sql, values: params === undefined ? undefined : params.map(toPg) });
    query.catch(() => undefined); // after a deadline nobody waits for it
    try {
      const res = await Promise.race([query, deadline]);
      const last = Array.isArray(res) ? res[res.length - 1] : res; // a multi-statement simple query answers one result each
      return { rows: last.rows as Array<Record<string, unknown>>, rowCount: last.rowCount ?? 0, fields: last.fields.map((f: { name: string }) => f.name), command: last.command };
    } catch (err) {
      if (err instanceof DeadlinePassed) {
        await this.dropSession();
        throw this.failed(lostConnection(operation, `no answer within ${timeoutMs} ms`));
      }
      const mapped = mapPgError(err, operation);
      if (mapped.dropsConnection || session.broken()) await this.dropSession();
      throw this.failed(mapped.failure);
    } finally {
      timer?.cancel();
    }
  }

  /** The failure to throw; if the connection is gone mid-transaction, the transaction is marked lost. */
  private failed(failure: BridgeFailure): Refusal {
    if (this.depth > 0 && this.session === null) {
      const lost = { ...failure, details: { ...failure.details, transactionLost: true } };
      this.lost = lost;
      return new Refusal(lost);
    }
    return new Refusal(failure);
  }

  private async ensureSession(operation: string): Promise<PgSession> {
    if (this.session !== null && !this.session.broken()) return this.session;
    if (this.session !== null) await this.dropSession();
    if (this.depth > 0) {
      // Only reachable when a transaction's connection died between two requests.
      throw this.failed(lostConnection(operation, 'the connection closed while the transaction was open'));
    }
    try {
      const found = await this.locate();
      this.session = found.session;
      return found.session;
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown; details?: unknown };
      if (e.code === 'CLUSTER_NO_PRIMARY' || e.code === 'CLUSTER_NOT_PRIMARY') {
        throw refusal(e.code, operation, String(e.message));
      }
      const { failure } = mapPgError(err, operation);
      if (failure.code !== 'STORAGE_UNAVAILABLE') throw new Refusal(failure);
      throw new Refusal({
        ...failure,
        message: `keychain store: ${operation}: cannot connect to PostgreSQL (${String(failure.details.reason ?? failure.message)}); nothing was done; retry: every call tries to connect again`,
      });
    }
  }

  private async dropSession(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session === null) return;
    // Destroy first: a server that stopped answering never says goodbye; end() then only cleans up.
    (session.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    await session.end();
  }

  private refuseIfLost(operation: string): void {
    if (this.lost !== null) {
      throw new Refusal({ ...this.lost, message: `keychain store: ${operation} refused: this transaction was lost with its connection (${this.lost.message}); roll it back`, details: { ...this.lost.details, operation } });
    }
  }

  /**
   * Where savepoint `name` is among the open ones. Releasing or rolling back
   * to it ends every savepoint opened after it too, as PostgreSQL does: the
   * main side drops the RELEASE of an inner savepoint that a rollback to an
   * outer one undoes unsent (sync-bridge.ts).
   */
  private openSavepoint(operation: string, name: string): number {
    const at = this.savepoints.lastIndexOf(name);
    if (at < 0) throw refusal('STORAGE_ERROR', operation, `no savepoint named ${JSON.stringify(name)} is open`);
    return at;
  }

  private closeSavepointsFrom(at: number): void {
    this.savepoints.length = at;
    this.depth = 1 + at;
  }

  private needTransaction(operation: string, minDepth = 1): void {
    if (this.depth < minDepth) throw refusal('STORAGE_ERROR', operation, minDepth > 1 ? 'no savepoint is open' : 'no transaction is open');
  }
}

function refusal(code: BridgeFailure['code'], operation: string, why: string): Refusal {
  return new Refusal({ code, message: `keychain store: ${operation}: ${why}`, details: { operation } });
}

function savepoint(name: string): string {
  if (!SAVEPOINT_NAME.test(name)) throw refusal('STORAGE_ERROR', 'savepoint', `savepoint name ${JSON.stringify(name)} is not a plain identifier`);
  return name;
}

function lockKey(key: number): string {
  if (!Number.isSafeInteger(key)) throw refusal('STORAGE_ERROR', 'begin', 'the writer lock key must be an integer');
  return String(key);
}

/** Structured clone turns a Buffer into a plain Uint8Array: give pg a Buffer (bytea) again. */
function toPg(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return value;
}

