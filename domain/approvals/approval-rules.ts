/**
 * The pure rules of dual control: who may approve, deny, cancel or collect a
 * request, when it has expired, when its quorum is met, and whose rights a
 * request changes (an officer may not approve a change to their own).
 * No I/O: every function takes the request, the actor and the time.
 *
 * States: pending → (quorum) executed | failed, or → executing → executed |
 * failed for an operation that finishes asynchronously; a key export goes
 * pending → approved (waiting for its requester to collect it once) →
 * executed | failed. pending or approved → denied (any officer), cancelled
 * (the requester), expired (the clock).
 */
import { AccessError, ApprovalError } from '../../common/errors';
import { ApprovalRecord, ApprovalState } from '../../storage/approval-store';

/** An officer or client acting on a request. */
export interface Actor {
  readonly name: string;
  readonly role: string;
  readonly groups: readonly string[];
}

/** States a request can still move from by vote, denial, cancellation or expiry. */
export const OPEN_STATES: readonly ApprovalState[] = ['pending', 'approved'];

/** Classes whose result is key material: the quorum releases it to the requester, who collects it once; it is never stored. */
export function deliversMaterial(dualControlClass: string): boolean {
  return dualControlClass === 'key-export';
}

/**
 * Operations whose stored result the requester collects after the quorum ran
 * them: a client certificate issued under dual control, for the key pair the
 * requester's CLI kept while the request waited. The certificate is public
 * and only the requester holds its key, so it may be collected again.
 */
export function keepsResultForRequester(operation: string): boolean {
  // ClientRenew likewise: a new certificate for the key pair its requester's CLI kept.
  return operation === 'ClientIssue' || operation === 'ClientRenew';
}

export function isExpired(record: ApprovalRecord, nowIso: string): boolean {
  return OPEN_STATES.includes(record.state) && record.expiresAt <= nowIso;
}

function notPending(record: ApprovalRecord): ApprovalError {
  if (record.state === 'expired') return new ApprovalError('APPROVAL_EXPIRED', `approval request "${record.id}" expired at ${record.expiresAt}`, { details: { id: record.id, expiresAt: record.expiresAt } });
  return new ApprovalError('APPROVAL_NOT_PENDING', `approval request "${record.id}" is ${record.state}`, { details: { id: record.id, state: record.state } });
}

/** Clients and groups whose rights the request would change: their members may not approve it. */
export interface RightsSubjects {
  readonly clients: readonly string[];
  readonly groups: readonly string[];
}

/** Whose rights a stored operation changes (a grant to a client or group, a client's revocation). */
export function rightsSubjects(operation: string, args: Readonly<Record<string, unknown>>): RightsSubjects {
  if (operation === 'PolicyGrant') {
    return { clients: typeof args.client === 'string' ? [args.client] : [], groups: typeof args.group === 'string' ? [args.group] : [] };
  }
  if (operation === 'ClientRevoke' && typeof args.name === 'string') return { clients: [args.name], groups: [] };
  return { clients: [], groups: [] };
}

/** Throws the code that says why `officer` may not approve `record` with `digest` now; returns nothing when they may. */
export function assertMayApprove(record: ApprovalRecord, officer: Actor, digest: string, nowIso: string): void {
  if (isExpired(record, nowIso) || record.state !== 'pending') throw notPending(isExpired(record, nowIso) ? { ...record, state: 'expired' } : record);
  if (officer.role !== 'officer') throw new AccessError('PERMISSION_DENIED', `only officers approve; "${officer.name}" is ${officer.role}`);
  if (officer.name === record.requester) {
    throw new ApprovalError('APPROVAL_SELF_APPROVAL', `"${officer.name}" made request "${record.id}" and cannot approve it`, { details: { id: record.id } });
  }
  if (digest !== record.digest) {
    throw new ApprovalError('APPROVAL_DIGEST_MISMATCH', `the digest given is not request "${record.id}"'s; show it again and approve what it says`, {
      details: { id: record.id, digest: record.digest },
    });
  }
  const subjects = rightsSubjects(record.operation, JSON.parse(record.args) as Record<string, unknown>);
  if (subjects.clients.includes(officer.name) || subjects.groups.some((g) => officer.groups.includes(g))) {
    throw new ApprovalError('APPROVAL_OWN_RIGHTS', `request "${record.id}" changes the rights of "${officer.name}", who cannot approve it`, { details: { id: record.id } });
  }
  if (record.votes.some((v) => v.officer === officer.name)) {
    throw new ApprovalError('APPROVAL_ALREADY_VOTED', `"${officer.name}" already approved request "${record.id}"`, { details: { id: record.id } });
  }
}

/** Any officer may deny an open request. */
export function assertMayDeny(record: ApprovalRecord, officer: Actor, nowIso: string): void {
  if (officer.role !== 'officer') throw new AccessError('PERMISSION_DENIED', `only officers deny requests; "${officer.name}" is ${officer.role}`);
  if (isExpired(record, nowIso) || !OPEN_STATES.includes(record.state)) throw notPending(isExpired(record, nowIso) ? { ...record, state: 'expired' } : record);
}

/** Only the requester cancels (nobody else can take their slot away; officers deny instead). */
export function assertMayCancel(record: ApprovalRecord, actor: Actor, nowIso: string): void {
  if (actor.name !== record.requester) {
    throw new ApprovalError('APPROVAL_NOT_REQUESTER', `only "${record.requester}" can cancel request "${record.id}"; officers may deny it`, { details: { id: record.id } });
  }
  if (isExpired(record, nowIso) || !OPEN_STATES.includes(record.state)) throw notPending(isExpired(record, nowIso) ? { ...record, state: 'expired' } : record);
}

/** Only the requester collects an approved export, once, before it expires; or the result of an executed ClientIssue (keepsResultForRequester). */
export function assertMayCollect(record: ApprovalRecord, actor: Actor, nowIso: string): void {
  if (actor.name !== record.requester) {
    throw new ApprovalError('APPROVAL_NOT_REQUESTER', `only "${record.requester}" can collect request "${record.id}"`, { details: { id: record.id } });
  }
  if (isExpired(record, nowIso)) throw notPending({ ...record, state: 'expired' });
  if (record.state !== (keepsResultForRequester(record.operation) ? 'executed' : 'approved')) {
    if (record.state === 'pending') {
      throw new ApprovalError('APPROVAL_REQUIRED', `request "${record.id}" has ${record.votes.length} of ${record.required} approvals`, {
        details: { requestId: record.id, digest: record.digest, required: record.required, approvals: record.votes.length, expiresAt: record.expiresAt },
      });
    }
    throw notPending(record);
  }
}

/** Whether one more approval (already counted in `votes`) meets the quorum. */
export function quorumMet(votes: number, required: number): boolean {
  return votes >= required;
}
