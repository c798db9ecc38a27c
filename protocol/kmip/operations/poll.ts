/**
 * Poll (KMIP 2.1 §6.1.38, 1.4 §4.28): the outcome of an operation dual
 * control held, for the client that sent it. The Asynchronous Correlation
 * Value is the approval request's id; its state comes from the native
 * ApprovalGet with `mine` (only the requester follows a request: another
 * officer is refused, Permission Denied; an app is told it does not exist),
 * and the result from the path the native CLI takes: a request run at the
 * quorum keeps its result in the request (what `approvals show` prints); an
 * approved key export is collected once with ApprovalCollect (`approvals
 * collect`). Never anything run twice.
 *
 * The answer, by the request's state:
 * - pending, executing: Operation Pending again, with the same value;
 * - executed, approved: Success with the Response Payload the original
 *   operation would have answered, built by its KmipOperation's
 *   `nativeResult` mapping (kmip-operation.ts);
 * - failed: the failure the original operation would have answered;
 * - denied: Permission Denied, naming the officer and their reason;
 * - cancelled: Operation Canceled By Requester;
 * - expired: the error table's answer to APPROVAL_EXPIRED (Operation
 *   Canceled By Requester, the message saying it expired).
 * The item's Operation stays Poll: a Response Batch Item echoes its request
 * item's; what is "identical" to the original answer is its payload.
 */
import { ApprovalError } from '../../../common/errors';
import { ERROR_CODES, ErrorCode, kmipReasonFor } from '../../../common/error-codes';
import type { ApprovalView } from '../../../domain/approvals/approval-view-shape';
import { deliversMaterial } from '../../../domain/approvals/approval-rules';
import { TtlvNode } from '../ttlv';
import { approvalIdOf } from './correlation-value';
import { KmipOperation, KmipOperationContext, KmipOperationError, NativeResultMapping } from './kmip-operation';
import { PayloadReader } from './payload';

/** The answer that makes the runner say Operation Pending with the request's id as the value. */
function stillPending(view: ApprovalView): ApprovalError {
  const progress = view.state === 'executing' ? 'was approved and is running' : `has ${view.approvals} of ${view.required} approvals`;
  return new ApprovalError('APPROVAL_REQUIRED', `request ${view.id} ${progress}; poll again later`, { details: { requestId: view.id } });
}

/** The served mapping that answers this native operation's result. */
function mappingFor(view: ApprovalView, ctx: KmipOperationContext): NativeResultMapping {
  for (const operation of ctx.operations.values()) {
    if (operation.nativeResult?.operation === view.operation) return operation.nativeResult;
    const more = operation.moreNativeResults?.find((mapping) => mapping.operation === view.operation);
    if (more !== undefined) return more;
  }
  throw new KmipOperationError('FeatureNotSupported', `request ${view.id} is a native ${view.operation}, which has no KMIP answer; strongroom approvals show ${view.id} gives its outcome`);
}

/** The stored failure of an approved request, answered as its operation's own failure would have been. */
function failureOf(view: ApprovalView, major: number): KmipOperationError {
  const stored = view.error ?? { code: 'INTERNAL_ERROR', message: 'the operation failed' };
  const code: ErrorCode = stored.code in ERROR_CODES ? (stored.code as ErrorCode) : 'INTERNAL_ERROR';
  return new KmipOperationError(kmipReasonFor(code, major), `${code}: request ${view.id} was approved but failed: ${stored.message}`);
}

async function completed(view: ApprovalView, ctx: KmipOperationContext): Promise<TtlvNode> {
  const mapping = mappingFor(view, ctx);
  // Material is never stored with a request: its requester collects an approved export once, as `strongroom approvals collect` does.
  if (deliversMaterial(view.class)) return mapping.toPayload(await ctx.call('ApprovalCollect', { id: view.id }), ctx);
  return mapping.toPayload(view.result, ctx);
}

export const poll: KmipOperation = {
  operation: 'Poll',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const id = approvalIdOf(reader);
    reader.rejectOthers();
    const { request: view } = (await ctx.call('ApprovalGet', { id, mine: true })) as { request: ApprovalView };
    switch (view.state) {
      case 'pending':
      case 'executing':
        throw stillPending(view);
      case 'approved':
      case 'executed':
        return completed(view, ctx);
      case 'failed':
        throw failureOf(view, ctx.version.major);
      case 'denied':
        throw new KmipOperationError('PermissionDenied', `request ${view.id} was denied by ${view.finishedBy ?? 'an officer'}: ${view.reason ?? 'no reason given'}`);
      case 'cancelled':
        throw new KmipOperationError('OperationCanceledByRequester', `request ${view.id} was cancelled by ${view.finishedBy ?? 'its requester'}`);
      case 'expired':
        throw new KmipOperationError(kmipReasonFor('APPROVAL_EXPIRED', ctx.version.major), `APPROVAL_EXPIRED: request ${view.id} expired at ${view.expiresAt} with ${view.approvals} of ${view.required} approvals; send the operation again`);
      default:
        throw new Error(`approval request state ${view.state} has no KMIP answer`);
    }
  },
};
