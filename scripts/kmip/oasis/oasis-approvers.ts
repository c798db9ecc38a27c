/**
 * Officers who approve what dual control holds during a conformance run
 * (oasis-pending.ts), over the native wire: each looks the request up
 * (ApprovalGet) and votes on the digest of what it will run
 * (ApprovalApprove), until the request leaves pending. They must be
 * officers other than the runner's client; as many as the quorum.
 */
import type { OperationName } from '../../../protocol/op-schemas';
import { ApprovePending } from './oasis-pending';

/** What an officer's native connection offers (StrongroomClient has it). */
export interface NativeRequester {
  request(op: OperationName, args: Record<string, unknown>): Promise<unknown>;
}

interface RequestView {
  readonly state: string;
  readonly digest: string;
}

export function approvedBy(officers: readonly NativeRequester[]): ApprovePending {
  return async (id) => {
    for (const officer of officers) {
      const { request } = (await officer.request('ApprovalGet', { id })) as { request: RequestView };
      if (request.state !== 'pending') return;
      await officer.request('ApprovalApprove', { id, digest: request.digest });
    }
  };
}
