/**
 * The dual-control operations (docs/protocol.md §6.3): list and show
 * requests, approve (with the digest the approver read), deny, cancel,
 * collect an approved key export, and read or change the quorums.
 *
 * Who sees what: officers and auditors see every request (auditors read
 * only); an app sees its own. Officers approve and deny; the requester alone
 * cancels or collects. ApprovalQuorumSet is itself dual-controlled
 * (quorum-change).
 */
import { AccessError, ApprovalError } from '../common/errors';
import { ApprovalView } from '../domain/approvals/approval-view';
import { ApprovalState } from '../storage/approval-store';
import { OperationContext } from './context';
import { Operation } from './operation';

/** Runs a call on the approval service; the audit events of what it changed are awaited before the answer (ctx.awaitAudit). */
function audited<T>(ctx: OperationContext, call: () => T): T {
  try {
    return call();
  } finally {
    for (const pending of ctx.services.approvals.takeAudits()) ctx.awaitAudit?.(pending);
  }
}

function visible(view: ApprovalView, ctx: OperationContext): ApprovalView {
  if (ctx.identity.role === 'app' && view.requester !== ctx.identity.name) {
    // Another client's request is not theirs to know of: same answer as none.
    throw new ApprovalError('APPROVAL_NOT_FOUND', `no approval request "${view.id}"; strongroom approvals list shows them`, { details: { id: view.id } });
  }
  return view;
}

export const approvalList: Operation<'ApprovalList'> = {
  name: 'ApprovalList',
  access: 'any',
  run: (args, ctx) => audited(ctx, () => {
    const state = args.state;
    const states: ApprovalState[] | undefined = state === undefined ? undefined : state === 'open' ? ['pending', 'approved'] : [state];
    const requester = ctx.identity.role === 'app' || args.mine === true ? ctx.identity.name : undefined;
    return { requests: ctx.services.approvals.list({ states, requester, limit: args.limit }) };
  }),
};

/**
 * With `mine`, only the caller's own request is shown: another's is
 * APPROVAL_NOT_REQUESTER even for an officer, who may read it without
 * `mine`. KMIP's Poll asks so, for a request's outcome is its requester's
 * alone to collect, as with ApprovalCollect.
 */
export const approvalGet: Operation<'ApprovalGet'> = {
  name: 'ApprovalGet',
  access: 'any',
  run: (args, ctx) =>
    audited(ctx, () => {
      const view = visible(ctx.services.approvals.get(args.id), ctx);
      if (args.mine === true && view.requester !== ctx.identity.name) {
        throw new ApprovalError('APPROVAL_NOT_REQUESTER', `request "${view.id}" is "${view.requester}"'s: only they can follow it to its result`, { details: { id: view.id } });
      }
      return { request: view };
    }),
};

/**
 * Answers at once, also when the approval starts an operation that finishes
 * asynchronously (master-key rotation): the request is then `executing`, and
 * ApprovalGet shows how it ended. A long run never holds the approver's
 * request past its timeout, and ApprovalApprove works inside a Batch.
 */
export const approvalApprove: Operation<'ApprovalApprove'> = {
  name: 'ApprovalApprove',
  access: 'officer',
  changesState: true,
  run: (args, ctx) =>
    audited(ctx, () => {
      const outcome = ctx.services.approvals.approve(args.id, ctx.identity, args.digest);
      if (!(outcome instanceof Promise)) return { request: outcome };
      // The service records the outcome (executed or failed, events, audit) when it settles.
      outcome.catch(() => undefined);
      return { request: ctx.services.approvals.get(args.id) };
    }),
};

export const approvalDeny: Operation<'ApprovalDeny'> = {
  name: 'ApprovalDeny',
  access: 'officer',
  changesState: true,
  run: (args, ctx) => audited(ctx, () => ({ request: ctx.services.approvals.deny(args.id, ctx.identity, args.reason) })),
};

export const approvalCancel: Operation<'ApprovalCancel'> = {
  name: 'ApprovalCancel',
  access: 'any',
  changesState: true,
  run: (args, ctx) =>
    audited(ctx, () => {
      visible(ctx.services.approvals.get(args.id), ctx);
      return { request: ctx.services.approvals.cancel(args.id, ctx.identity) };
    }),
};

/** The approved export's result (the material) for its requester, once; the connection zeroes it after encoding. */
export const approvalCollect: Operation<'ApprovalCollect'> = {
  name: 'ApprovalCollect',
  access: 'any',
  changesState: true,
  run: (args, ctx) =>
    audited(ctx, () => {
      visible(ctx.services.approvals.get(args.id), ctx);
      return ctx.services.approvals.collect(args.id, ctx.identity);
    }),
};

export const approvalQuorums: Operation<'ApprovalQuorums'> = {
  name: 'ApprovalQuorums',
  access: 'any',
  run: (_args, ctx) => {
    if (ctx.identity.role === 'app') throw new AccessError('PERMISSION_DENIED', `quorums are for officers and auditors; "${ctx.identity.name}" is an app`);
    return { quorums: ctx.services.approvals.quorums() };
  },
};

export const approvalQuorumSet: Operation<'ApprovalQuorumSet'> = {
  name: 'ApprovalQuorumSet',
  access: 'officer',
  changesState: true,
  dualControl: 'quorum-change',
  run: (args, ctx) => audited(ctx, () => ({ quorum: ctx.services.approvals.setQuorum(args.class, args.required, ctx.identity.name) })),
};
