/**
 * The approval service: creates dual-control requests, records officers'
 * votes, denials and cancellations, expires stale requests, and, when the
 * quorum is met, runs the stored operation exactly once.
 *
 * Exactly once: the vote that meets the quorum, the state check, the
 * operation's own writes and the request's move to `executed` happen in one
 * store transaction (an IMMEDIATE transaction on SQLite: the write lock). A
 * second approval racing it reads the committed state and gets
 * APPROVAL_NOT_PENDING; a crash before the commit leaves the request pending
 * with nothing run. The operation runs in a savepoint inside it: if it fails,
 * its partial writes are undone and the request is `failed` with the error
 * (it is not retried). An operation that finishes asynchronously (an HSM
 * call) moves to `executing` in that transaction and to executed/failed when
 * it settles; one interrupted by a restart is marked failed at start, never
 * re-run (at most once).
 *
 * A key export (deliversMaterial) is not run at the quorum: the request
 * becomes `approved`, and its requester collects it once (collect()), which
 * runs the Get and returns the material to them alone. Material is never
 * stored, published or audited. A dual-controlled ClientIssue runs at the
 * quorum; its requester then collects the stored certificate, for the key
 * pair their CLI kept while the request waited.
 */
import { Clock, isoNow } from '../../common/clock';
import { ApprovalError, KeychainError } from '../../common/errors';
import { ApprovalRecord, ApprovalState, ApprovalStore } from '../../storage/approval-store';
import { ApprovalLiveEvent } from '../events/event-bus';
import { approvalDigest, canonicalJson } from './approval-digest';
import { Actor, assertMayApprove, assertMayCancel, assertMayCollect, assertMayDeny, deliversMaterial, keepsResultForRequester, quorumMet } from './approval-rules';
import { approvalView, ApprovalView, storableResult } from './approval-view';
import { DEFAULT_QUORUM } from './quorum-settings';
import { DualControlClass } from '../vocabulary/dual-control-classes';
import { ApprovalBinding, parseBinding } from './approval-binding';
import { holdsSealed, withoutSealed } from './sealed-args';

/** Most requests one list returns. */
export const MAX_APPROVAL_LIST = 500;
/** Requests found interrupted (executing) at start, per pass. */
const MAX_INTERRUPTED_SCAN = 10_000;

export type ApprovalAction = ApprovalLiveEvent['action'];

export interface ApprovalServiceOptions {
  readonly approvals: ApprovalStore;
  /** The owning store's transaction (storage/keychain-store.ts): one write lock for the vote, the state and the operation. */
  readonly transaction: <T>(fn: () => T) => T;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly ttlMs: number;
  readonly maxOpenPerRequester: number;
  /** The quorum of each class before any is stored (from dual_control_quorum). */
  readonly defaultQuorums: ReadonlyMap<string, number>;
  /** Runs the stored operation as its requester, through the same operation code; a value or a promise. */
  readonly execute: (record: ApprovalRecord) => unknown;
  /** Every state change, after it is committed. */
  readonly publish: (event: ApprovalLiveEvent) => void;
  /** Records an audit event for the change (the request id in custom); its promise settles once it is durable (takeAudits hands it on). */
  readonly audit: (record: ApprovalRecord, action: ApprovalAction, actor: Actor | null) => Promise<void> | void;
  /**
   * Appends a change's audit event inside the transaction that makes it (the
   * server's audit pipeline), returning what publishes it once that
   * transaction committed: a vote, a state change and its event commit
   * together or not at all. Given, it replaces `audit` for every change made
   * in one of this service's transactions (an asynchronous run's end
   * included); absent (unit tests), `audit` records each after the commit.
   */
  readonly auditWithin?: (record: ApprovalRecord, action: ApprovalAction, actor: Actor | null) => () => void;
  /** The key a request is about, for events (the bound key when there is one): null when none. */
  readonly target: (operation: string, args: Record<string, unknown>, binding: ApprovalBinding | null) => { key: string | null; namespace: string | null };
}

export interface NewApproval {
  readonly operation: string;
  readonly args: Record<string, unknown>;
  readonly dualControlClass: string;
  readonly requester: Actor;
  /** What the key reference resolved to now, for an operation on a key; absent or null when it names none. */
  readonly binding?: ApprovalBinding | null;
  /**
   * What to store instead of `args`, made once the request's id is known
   * (a key import seals its material bound to it: Operation.approvalArgs).
   */
  readonly storedArgs?: (request: { readonly id: string; readonly requester: string }) => Record<string, unknown>;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * The arguments to store as a request leaves pending for good: without its
 * sealed material (sealed-args.ts), so the blob does not outlive it; nothing
 * to change for a request that holds none.
 */
function erased(record: ApprovalRecord): { args?: string } {
  if (!holdsSealed(record.args)) return {};
  return { args: canonicalJson(withoutSealed(JSON.parse(record.args) as Record<string, unknown>)) };
}

function errorJson(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return JSON.stringify({ code: typeof e?.code === 'string' ? e.code : 'INTERNAL_ERROR', message: typeof e?.message === 'string' ? e.message : 'the operation failed' });
}

type RunOutcome = { record: ApprovalRecord; value?: unknown; failure?: unknown; pending?: Promise<unknown> };

/** Inside a change's transaction: asks for the event of a state the change made (see ApprovalService.changing). */
type Settle = (record: ApprovalRecord, action: ApprovalAction, actor: Actor | null) => void;

export class ApprovalService {
  /** Audit events of the changes made since the last takeAudits(), not yet durable perhaps. */
  private audits: Array<Promise<void>> = [];

  constructor(private readonly options: ApprovalServiceOptions) {}

  /** The stored quorum of a class, else the configured default. */
  quorum(dualControlClass: string): number {
    return this.options.approvals.getQuorum(dualControlClass)?.required ?? this.options.defaultQuorums.get(dualControlClass) ?? DEFAULT_QUORUM;
  }

  /** Every class and its quorum, and where it came from. */
  quorums(): Array<{ class: string; required: number; updatedAt: string | null; updatedBy: string }> {
    const stored = new Map(this.options.approvals.listQuorums().map((q) => [q.dualControlClass, q]));
    return [...this.options.defaultQuorums.keys()].map((c) => {
      const q = stored.get(c);
      return q ? { class: c, required: q.required, updatedAt: q.updatedAt, updatedBy: q.updatedBy } : { class: c, required: this.quorum(c), updatedAt: null, updatedBy: 'config' };
    });
  }

  /**
   * At start: stores the configured quorum of every class that has none yet
   * (the config file is the initial default; later only an approved
   * ApprovalQuorumSet changes it), and fails requests a restart interrupted.
   */
  start(): void {
    const at = isoNow(this.options.clock);
    this.options.transaction(() => {
      for (const [c, required] of this.options.defaultQuorums) {
        if (this.options.approvals.getQuorum(c) === null) this.options.approvals.putQuorum({ dualControlClass: c, required, updatedAt: at, updatedBy: 'config' });
      }
    });
    for (const record of this.options.approvals.listApprovals({ states: ['executing'], limit: MAX_INTERRUPTED_SCAN })) {
      const error = JSON.stringify({ code: 'INTERNAL_ERROR', message: 'the server stopped while the approved operation ran; it was not run again' });
      this.changing((settle) => settle(this.options.approvals.changeState({ id: record.id, from: 'executing', to: 'failed', at, error, ...erased(record) }), 'failed', null));
    }
    // The server's own start: no request waits on these events (the wiring logs one that is lost).
    this.takeAudits();
  }

  /** Sets a class's quorum (the approved ApprovalQuorumSet runs this). */
  setQuorum(dualControlClass: DualControlClass, required: number, by: string): { class: string; required: number } {
    this.options.approvals.putQuorum({ dualControlClass, required, updatedAt: isoNow(this.options.clock), updatedBy: by });
    return { class: dualControlClass, required };
  }

  /** Stores a new request; the caller answers APPROVAL_REQUIRED with approvalRequired(record). */
  request(input: NewApproval): ApprovalRecord {
    this.expireDue();
    const { approvals, clock } = this.options;
    return this.changing((settle) => {
      if (approvals.countOpen(input.requester.name) >= this.options.maxOpenPerRequester) {
        throw new ApprovalError('APPROVAL_LIMIT_REACHED', `"${input.requester.name}" has ${this.options.maxOpenPerRequester} approval requests open; cancel one or wait`, {
          details: { limit: this.options.maxOpenPerRequester },
        });
      }
      const id = this.options.newId();
      const createdAt = isoNow(clock);
      const args = canonicalJson(input.storedArgs?.({ id, requester: input.requester.name }) ?? input.args);
      const binding = input.binding == null ? null : canonicalJson({ ...input.binding });
      const base = { id, operation: input.operation, args, binding, requester: input.requester.name, dualControlClass: input.dualControlClass, createdAt };
      const stored = {
        ...base,
        required: this.quorum(input.dualControlClass),
        digest: approvalDigest(base),
        expiresAt: new Date(clock.nowMs() + this.options.ttlMs).toISOString(),
        state: 'pending' as const,
        result: null,
        error: null,
        finishedAt: null,
        finishedBy: null,
        reason: null,
      };
      approvals.putApproval(stored);
      const record = { ...stored, votes: [] };
      settle(record, 'requested', input.requester);
      return record;
    });
  }

  get(id: string): ApprovalView {
    this.expireDue();
    return approvalView(this.load(id));
  }

  /**
   * The arguments (canonical JSON) of every request for `operation` not yet
   * carried out (pending, approved, executing), expired ones not yet marked
   * included (it only reads; counting one too many is the safe side).
   * Uncapped: open requests are bounded per requester.
   */
  openArgsOf(operation: string): string[] {
    return this.options.approvals
      .listApprovals({ states: ['pending', 'approved', 'executing'], limit: Number.MAX_SAFE_INTEGER })
      .filter((r) => r.operation === operation)
      .map((r) => r.args);
  }

  list(filter: { states?: readonly ApprovalState[]; requester?: string; limit?: number } = {}): ApprovalView[] {
    this.expireDue();
    return this.options.approvals.listApprovals({ ...filter, limit: Math.min(filter.limit ?? 100, MAX_APPROVAL_LIST) }).map(approvalView);
  }

  /**
   * Records `officer`'s approval of `digest`; at the quorum, runs the
   * operation (see the file comment). Returns the request as it now stands,
   * or a promise of it when the operation finishes asynchronously.
   */
  approve(id: string, officer: Actor, digest: string): ApprovalView | Promise<ApprovalView> {
    this.expireDue();
    const now = isoNow(this.options.clock);
    const outcome = this.changing((settle): RunOutcome => {
      const record = this.load(id);
      assertMayApprove(record, officer, digest, now);
      this.options.approvals.addVote(id, { officer: officer.name, digest, at: now });
      const voted = this.load(id);
      settle(voted, 'approved', officer);
      if (!quorumMet(voted.votes.length, voted.required)) return { record: voted };
      if (deliversMaterial(voted.dualControlClass)) return { record: this.options.approvals.changeState({ id, from: 'pending', to: 'approved', at: now }) };
      return settledRun(this.runStored(voted, 'pending', now), settle);
    });
    return this.finish(outcome, false) as ApprovalView | Promise<ApprovalView>;
  }

  /**
   * The requester collects an approved export, once: the stored Get runs now
   * and its material goes to them alone. An executed ClientIssue's stored
   * result (the certificate) is returned as it is.
   */
  collect(id: string, actor: Actor): unknown {
    this.expireDue();
    const now = isoNow(this.options.clock);
    const stored = this.load(id);
    if (keepsResultForRequester(stored.operation)) {
      // Already run at the quorum: the requester takes its stored result (a certificate, no secret).
      assertMayCollect(stored, actor, now);
      return approvalView(stored).result;
    }
    const outcome = this.changing((settle): RunOutcome => {
      const record = this.load(id);
      assertMayCollect(record, actor, now);
      return settledRun(this.runStored(record, 'approved', now), settle);
    });
    return this.finish(outcome, true);
  }

  deny(id: string, officer: Actor, reason: string): ApprovalView {
    return this.close(id, officer, 'denied', reason);
  }

  cancel(id: string, actor: Actor): ApprovalView {
    return this.close(id, actor, 'cancelled', null);
  }

  /** Moves every open request past its expiry to `expired` (on every approval call: no timer to forget). */
  expireDue(): void {
    const now = isoNow(this.options.clock);
    for (const id of this.options.approvals.listExpired(now)) {
      const record = this.options.approvals.getApproval(id);
      if (!record) continue;
      try {
        this.changing((settle) => settle(this.options.approvals.changeState({ id, from: record.state, to: 'expired', at: now, ...erased(record) }), 'expired', null));
      } catch (err) {
        // Another process moved it on first: nothing to expire.
        if ((err as { code?: string }).code !== 'APPROVAL_NOT_PENDING') throw err;
      }
    }
  }

  /** The APPROVAL_REQUIRED error for a stored request: its details say what to approve. */
  approvalRequired(record: ApprovalRecord): ApprovalError {
    return new ApprovalError('APPROVAL_REQUIRED', `${record.operation} needs ${record.required} officer approval(s): request ${record.id} (strongroom approvals show ${record.id})`, {
      details: { requestId: record.id, digest: record.digest, required: record.required, expiresAt: record.expiresAt, operation: record.operation, class: record.dualControlClass },
    });
  }

  private close(id: string, actor: Actor, to: 'denied' | 'cancelled', reason: string | null): ApprovalView {
    this.expireDue();
    const now = isoNow(this.options.clock);
    const record = this.changing((settle) => {
      const current = this.load(id);
      if (to === 'denied') assertMayDeny(current, actor, now);
      else assertMayCancel(current, actor, now);
      const closed = this.options.approvals.changeState({ id, from: current.state, to, at: now, finishedBy: actor.name, reason, ...erased(current) });
      settle(closed, to, actor);
      return closed;
    });
    return approvalView(record);
  }

  /** Inside the transaction: checks the digest again and runs the stored operation in a savepoint. */
  private runStored(record: ApprovalRecord, from: ApprovalState, now: string): RunOutcome {
    const { approvals } = this.options;
    if (approvalDigest(record) !== record.digest || record.votes.some((v) => v.digest !== record.digest)) {
      throw new KeychainError('INTEGRITY_FAILURE', `stored approval request "${record.id}" no longer matches its digest: it was altered; nothing was run`, { details: { id: record.id } });
    }
    let ran: { value: unknown };
    try {
      ran = this.options.transaction(() => ({ value: this.options.execute(record) }));
    } catch (failure) {
      return { record: approvals.changeState({ id: record.id, from, to: 'failed', at: now, error: errorJson(failure), ...erased(record) }), failure };
    }
    // Run (or running) once and never again: any sealed material it carried goes with this change.
    if (isPromise(ran.value)) return { record: approvals.changeState({ id: record.id, from, to: 'executing', at: now, ...erased(record) }), pending: ran.value };
    return { record: approvals.changeState({ id: record.id, from, to: 'executed', at: now, result: JSON.stringify(storableResult(ran.value)), ...erased(record) }), value: ran.value };
  }

  /** After the commit (whose events settledRun asked for): the answer; an asynchronous run settles later. `deliver` returns the raw value (a collected export). */
  private finish(outcome: RunOutcome, deliver: boolean): unknown {
    const { record } = outcome;
    if (record.state === 'failed') {
      if (deliver) throw outcome.failure;
      return approvalView(record);
    }
    if (record.state === 'executed') return deliver ? outcome.value : approvalView(record);
    if (record.state === 'executing' && outcome.pending) {
      return outcome.pending.then(
        (value) => {
          const done = this.changing((settle) => {
            const executed = this.options.approvals.changeState({ id: record.id, from: 'executing', to: 'executed', at: isoNow(this.options.clock), result: JSON.stringify(storableResult(value)) });
            settle(executed, 'executed', null);
            return executed;
          });
          // Settled after its caller was answered: nobody waits on this event (the wiring logs it if lost); not left for an unrelated caller.
          this.takeAudits();
          return deliver ? value : approvalView(done);
        },
        (failure: unknown) => {
          const done = this.changing((settle) => {
            const failed = this.options.approvals.changeState({ id: record.id, from: 'executing', to: 'failed', at: isoNow(this.options.clock), error: errorJson(failure) });
            settle(failed, 'failed', null);
            return failed;
          });
          this.takeAudits();
          if (deliver) throw failure;
          return approvalView(done);
        },
      );
    }
    return approvalView(record);
  }

  /**
   * Runs `change` in one store transaction. The events it asks for
   * (`settle`) are appended inside that transaction when auditWithin is
   * given, so the change and its events commit together, or recorded after
   * the commit through `audit`; the live events are published after the
   * commit either way, and nothing of a change that was undone.
   */
  private changing<T>(change: (settle: Settle) => T): T {
    const asked: Array<{ record: ApprovalRecord; action: ApprovalAction; actor: Actor | null; published?: () => void }> = [];
    const within = this.options.auditWithin;
    const result = this.options.transaction(() => {
      asked.length = 0;
      const value = change((record, action, actor) => void asked.push({ record, action, actor }));
      if (within !== undefined) for (const one of asked) one.published = within(one.record, one.action, one.actor);
      return value;
    });
    for (const { record, action, actor, published } of asked) {
      this.tell(record, action, actor);
      if (published !== undefined) {
        published();
        continue;
      }
      const pending = this.options.audit(record, action, actor);
      if (pending) this.audits.push(pending);
    }
    return result;
  }

  /** The live event of a committed change. */
  private tell(record: ApprovalRecord, action: ApprovalAction, actor: Actor | null): void {
    const { key, namespace } = this.options.target(record.operation, JSON.parse(record.args) as Record<string, unknown>, parseBinding(record.binding));
    this.options.publish({
      kind: 'approval',
      action,
      requestId: record.id,
      operation: record.operation,
      namespace,
      key,
      requester: record.requester,
      actor: actor?.name ?? null,
      approvals: record.votes.length,
      required: record.required,
      digest: record.digest,
      expiresAt: record.expiresAt,
      time: isoNow(this.options.clock),
    });
  }

  /**
   * The audit events of the changes this service made since the last call
   * (the service is synchronous: right after a call, that call's events),
   * for the caller to wait on before it answers: an approval, a denial, a
   * stored request is not reported done until its event is durable, and
   * fails closed (AUDIT_UNAVAILABLE) when it cannot be written.
   */
  takeAudits(): Array<Promise<void>> {
    const taken = this.audits;
    this.audits = [];
    return taken;
  }

  private load(id: string): ApprovalRecord {
    const record = this.options.approvals.getApproval(id);
    if (!record) throw new ApprovalError('APPROVAL_NOT_FOUND', `no approval request "${id}"; strongroom approvals list shows them`, { details: { id } });
    return record;
  }
}

/** A stored operation's run that ended inside the change's transaction asks for its event there too. */
function settledRun(outcome: RunOutcome, settle: Settle): RunOutcome {
  if (outcome.record.state === 'failed') settle(outcome.record, 'failed', null);
  if (outcome.record.state === 'executed') settle(outcome.record, 'executed', null);
  return outcome;
}
