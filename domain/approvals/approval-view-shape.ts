/**
 * The shape of an approval request as officers, auditors and its requester
 * see it (ApprovalGet, ApprovalList), apart from the functions that build it
 * (approval-view.ts): the client library takes it as a type without storage/.
 */
import type { ApprovalBinding } from './approval-binding';

export interface ApprovalView {
  readonly id: string;
  readonly operation: string;
  readonly args: Record<string, unknown>;
  /** For an operation on a key: the key id, canonical name and instance that will be used, whatever the arguments name (an alias); null otherwise. */
  readonly binding: ApprovalBinding | null;
  readonly class: string;
  readonly requester: string;
  readonly required: number;
  readonly approvals: number;
  readonly approvedBy: readonly string[];
  readonly digest: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: string;
  readonly result: unknown;
  readonly error: { code: string; message: string } | null;
  readonly finishedAt: string | null;
  readonly finishedBy: string | null;
  readonly reason: string | null;
}
