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
}

export interface KmipOperation {
  /** The KMIP Operation enumeration name it serves ('Get', 'Create', …). */
  readonly operation: string;
  /** The Request Payload → the Response Payload (a ResponsePayload structure). */
  run(payload: TtlvNode, ctx: KmipOperationContext): Promise<TtlvNode>;
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
