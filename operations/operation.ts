/**
 * The shape of an operation in the dispatch table. `access` is checked by the
 * dispatcher before `run`: `any` (every authenticated client), `officer`, or
 * `key` (the operation authorises against the key it touches, with
 * authorizeName / authorizeRef, because only it knows which key that is),
 * or `audit` (officers and auditors: reading the audit trail and reports).
 */
import { ArgsOf, OperationName } from '../protocol/op-schemas';
import { OperationContext } from './context';
import { DualControlClass } from '../domain/vocabulary/dual-control-classes';
import { ApprovalBinding } from '../domain/approvals/approval-binding';

/** Classes of sensitive operations that dual control can hold back until approved (domain/vocabulary). */
export type { DualControlClass };

/**
 * One operation, typed by its name: `run` (and a `dualControl` function)
 * receive the arguments its schema validated (protocol/op-schemas.ts
 * OperationArgs), base64 fields as Buffers.
 */
export interface Operation<Op extends TableOperationName = TableOperationName> {
  readonly name: Op;
  readonly access: 'any' | 'officer' | 'key' | 'audit';
  /**
   * Set on sensitive operations: the dispatcher's dual-control gate turns a
   * request into an approval request of this class instead of running it.
   * A function decides per request (a grant is sensitive only when it gives
   * access to key material; a Get only when an officer without a grant asks);
   * it may throw (KEY_NOT_FOUND) so that no request is stored for nothing;
   * undefined or null: not dual-controlled.
   */
  readonly dualControl?: DualControlClass | ((args: ArgsOf<Op>, ctx: OperationContext) => DualControlClass | null);
  /**
   * For a dual-controlled operation whose arguments are a key reference
   * (`{name?, instance?}`): what the reference resolves to, stored with the
   * request (operations/approval-binding.ts). The executor then runs it on
   * the bound key and instance only, with `name` and `instance` replaced.
   */
  readonly approvalBinding?: (args: ArgsOf<Op>, ctx: OperationContext) => ApprovalBinding;
  /**
   * For a dual-controlled operation whose arguments hold material (a key
   * import): what the approval record stores instead of them, and the
   * inverse at execution (operations/approval-executor.ts). Without it the
   * validated arguments are stored as they are (and may hold no binary).
   */
  readonly approvalArgs?: ApprovalArgs<Op>;
  /**
   * For a dual-controlled operation whose request must be checked with the
   * HSM or the disk before it is stored (a backup restore: the file verified
   * in full): resolves the approval record's stored form, or rejects so that
   * nothing is stored. Used instead of approvalArgs.store; the executor
   * still restores with approvalArgs.restore.
   */
  readonly prepareApproval?: (args: ArgsOf<Op>, ctx: OperationContext) => Promise<Record<string, unknown>>;
  /**
   * False: refused inside Batch (INVALID_REQUEST) before it runs, because one
   * run already reads up to a whole trail; 64 in one request would hold the
   * server for 64 times that. Default true.
   */
  readonly batchable?: boolean;
  /**
   * True for an operation that changes the appliance's state (keys, clients,
   * grants, aliases, approvals, sealing): unless it commits with its event
   * (commitsWithItsEvent), the dispatcher makes an intent event durable
   * before it runs, and refuses it (AUDIT_UNAVAILABLE) when that cannot be
   * done. Reads leave it unset and pay nothing.
   */
  readonly changesState?: boolean;
  /**
   * With changesState, for an operation whose run is synchronous: where the
   * server gives the dispatcher an OutcomeCommitter, the change and its
   * outcome event commit in one store transaction, so no intent event is
   * needed and none is written (one commit instead of three). A request the
   * dual-control gate stores for approval still gets its intent first.
   */
  readonly commitsWithItsEvent?: boolean;
  /**
   * True for a read that may answer asynchronously without changing what the
   * trail records as a state change (a Get's first serving waits for its
   * Fresh flag's group commit): allowed inside a Batch, whose later items
   * run after it as they do after a state change.
   */
  readonly answersLater?: boolean;
  run(args: ArgsOf<Op>, ctx: OperationContext): unknown;
}

/** The stored request a hook works for: what its sealing binds to. */
export interface StoredRequest {
  readonly id: string;
  readonly requester: string;
}

/** An operation's stored form of its arguments while officers approve it (see Operation.approvalArgs). */
export interface ApprovalArgs<Op extends TableOperationName> {
  /**
   * Plain JSON for the approval record: material sealed under the keychain
   * key in the field SEALED_ARGS_FIELD (domain/approvals/sealed-args.ts),
   * which approval views never show and the service erases once the request
   * ends, beside what approvers compare (a key check value).
   */
  store(args: ArgsOf<Op>, request: StoredRequest, ctx: OperationContext): Record<string, unknown>;
  /** The arguments to run, validated again; their Buffers are the run's to zero. Fails closed (INTEGRITY_FAILURE) on a stored form that is not this request's. */
  restore(stored: Record<string, unknown>, request: StoredRequest, ctx: OperationContext): ArgsOf<Op>;
}

/** The operations in the table: every one but Batch, which is the dispatcher's own. */
export type TableOperationName = Exclude<OperationName, 'Batch'>;

/** The dispatch table: each operation name to the operation of that name (the compiler checks both that none is missing and that none is misfiled). */
export type OperationTable = { readonly [Op in TableOperationName]: Operation<Op> };

/** Any one operation of the table, whichever its name. */
export type AnyOperation = OperationTable[TableOperationName];
