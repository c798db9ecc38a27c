/**
 * The KMIP operation layer's contract (docs/kmip.md §3): one KmipOperation
 * per KMIP Operation turns a Request Payload into calls of the appliance's
 * own operations and their results into a Response Payload. It never does
 * the work itself: every call goes through `call`, which the transport
 * (server/kmip/kmip-item-runner.ts) routes through the one dispatcher, so
 * identity, access, the sealed check, dual control and audit are the native
 * wire's, not a copy. Pure apart from `call`, `nowMs` and `newId`, which
 * the transport gives: no I/O, no ambient clock, no logger.
 */
import { StrongroomError } from '../../../common/errors';
import { BatchableOperationName, OperationArgs } from '../../op-schemas';
import { ProtocolVersion, RequestHeader } from '../kmip-message';
import { TtlvNode } from '../ttlv';

/**
 * Runs one native operation through the dispatcher and resolves with its
 * result once the result's audit events are durable; rejects with the
 * StrongroomError the native wire would answer (APPROVAL_REQUIRED included:
 * the runner turns that into Operation Pending). The arguments are
 * validated by the native schema before anything runs; Buffers in them are
 * the caller's to zero.
 */
export type NativeCall = <Op extends BatchableOperationName>(op: Op, args: OperationArgs[Op]) => Promise<unknown>;

export interface KmipOperationContext {
  /** The version the reply is in (the request's own). */
  readonly version: ProtocolVersion;
  readonly header: RequestHeader;
  readonly call: NativeCall;
  /** The Operation names this server serves over KMIP (Query lists them). */
  readonly served: readonly string[];
  /** The client's name (its certificate's): Create names an unnamed object in the client's own namespace. */
  readonly client: string;
  /** The server's clock (ms since 1970): KMIP dates are read against it (an Activation Date already past means now). */
  readonly nowMs: () => number;
  /** A fresh unique id (for the name of an object created without a Name). */
  readonly newId: () => string;
  /**
   * The batch's ID Placeholder when this item runs (protocol/kmip/id-placeholder.ts):
   * the Unique Identifier an earlier item of the same request message answered,
   * which an item that omits its own means. Undefined when none is set.
   */
  readonly idPlaceholder?: string;
  /** Every served operation by its name: Poll finds here the mapping that answers a request it follows. */
  readonly operations: ReadonlyMap<string, KmipOperation>;
}

/**
 * How a KmipOperation answers a native result it did not wait for: a
 * request dual control held (Operation Pending) is carried out when officers
 * approve it, and Poll (poll.ts) answers with the payload the original
 * operation would have given. The approval request names the native
 * operation; Poll looks for the served KmipOperation whose `nativeResult`
 * names it, and builds the payload from the result the native approval
 * operations give its requester, without running anything again.
 */
export interface NativeResultMapping {
  /** The native operation whose result this turns into a Response Payload ('Destroy', 'Get', …). */
  readonly operation: BatchableOperationName;
  /**
   * The native result → the Response Payload, as `run` answers it. It gets
   * the stored result of a request run at the quorum (JSON: binary fields
   * are withheld there, so only results without material come this way), or
   * the live result ApprovalCollect gives for a key export (its Buffers may
   * go into the payload: the transport zeroes the response's Byte Strings).
   * What the original request asked beyond the native arguments (a Key
   * Format Type, a wrapping) is not stored: the mapping answers its default.
   */
  toPayload(result: unknown, ctx: KmipOperationContext): TtlvNode;
}

export interface KmipOperation {
  /** The KMIP Operation enumeration name it serves ('Get', 'Create', …). */
  readonly operation: string;
  /** The Request Payload → the Response Payload (a ResponsePayload structure). */
  run(payload: TtlvNode, ctx: KmipOperationContext): Promise<TtlvNode>;
  /** Present on an operation whose native call dual control may hold, so Poll can answer with its payload. */
  readonly nativeResult?: NativeResultMapping;
  /** Mappings of other native operations it may call (Get's wrapped export is the native Export). */
  readonly moreNativeResults?: readonly NativeResultMapping[];
}

/**
 * A refusal only KMIP has (a field this server does not take, a format it
 * does not produce): the Result Reason is given directly. Messages name the
 * field, never its value.
 */
export class KmipOperationError extends StrongroomError {
  constructor(
    /** A KMIP Result Reason enumeration name. */
    readonly resultReason: string,
    message: string,
  ) {
    super('INVALID_ARGUMENT', message, { details: { resultReason } });
  }
}
