/**
 * The authenticated views of the directory and of dual control
 * (domain/trust/authenticated-*.ts) over the in-memory stores: what they
 * write carries a MAC that every read checks; a record edited in the store
 * underneath (a role raised, a quorum or a request's `required` lowered, a
 * vote added) is INTEGRITY_FAILURE; while sealed, clients read as stored
 * and nothing else is read or written. And identity confirmation holds a
 * connection's identity to its verified row.
 */
import { randomBytes } from 'node:crypto';
import { AuthenticatedApprovals } from '../../../domain/trust/authenticated-approvals';
import { AuthenticatedDirectory } from '../../../domain/trust/authenticated-directory';
import { deriveTrustKeys, TrustKeys } from '../../../domain/trust/trust-keys';
import { IdentityConfirmation } from '../../../domain/policy/identity-confirmation';
import { ApprovalRecord } from '../../../storage/approval-store';
import { ClientRecord } from '../../../storage/directory-store';
import { MemoryApprovals } from '../../../storage/memory-approvals';
import { MemoryDirectory } from '../../../storage/memory-directory';
import { codeOf } from '../../support/error-code';

const client = (name: string, role: ClientRecord['role']): ClientRecord => ({
  name, role, groups: ['payments'], serialNumber: '01', fingerprint256: `fp-${name}`, notBefore: 'a', notAfter: 'b', createdAt: 'c', revokedAt: null,
});

const request = (id: string): Omit<ApprovalRecord, 'votes'> => ({
  id, operation: 'Destroy', args: '{"name":"hr/payroll"}', binding: null, dualControlClass: 'key-destroy', requester: 'officer-1', required: 2,
  digest: 'd', createdAt: 'c', expiresAt: 'e', state: 'pending', result: null, error: null, finishedAt: null, finishedBy: null, reason: null,
});

/** Replaces a stored record in a memory store's map, as someone writing the file underneath would. */
function tamper<T>(store: object, mapName: string, key: string, edit: (record: T) => T): void {
  const map = (store as Record<string, Map<string, T>>)[mapName];
  map.set(key, edit(map.get(key) as T));
}

describe('authenticated views of the authorisation rows', () => {
  let keys: TrustKeys | null;
  let rawDirectory: MemoryDirectory;
  let rawApprovals: MemoryApprovals;
  let directory: AuthenticatedDirectory;
  let approvals: AuthenticatedApprovals;

  beforeEach(() => {
    keys = deriveTrustKeys('keychain-1', randomBytes(32));
    rawDirectory = new MemoryDirectory();
    rawApprovals = new MemoryApprovals();
    directory = new AuthenticatedDirectory(rawDirectory, () => keys);
    approvals = new AuthenticatedApprovals(rawApprovals, () => keys);
  });

  it('MACs what it writes, hands out records without the MAC, and keeps revocation authenticated', () => {
    directory.putClient(client('app-1', 'app'));
    expect(rawDirectory.getClientByName('app-1')?.rowMac).toHaveLength(32);
    expect(directory.getClientByName('app-1')).toEqual(client('app-1', 'app'));
    expect(directory.revokeClient('app-1', 'r').revokedAt).toBe('r');
    expect(directory.revokeClient('app-1', 'later').revokedAt).toBe('r');
    expect(directory.listClients()).toHaveLength(1);
  });

  it('refuses a client whose role was raised, and one written without a MAC', () => {
    directory.putClient(client('app-1', 'app'));
    tamper<ClientRecord>(rawDirectory, 'clients', 'app-1', (c) => ({ ...c, role: 'officer' }));
    expect(codeOf(() => directory.getClientByFingerprint('fp-app-1'))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => directory.countActiveClients('officer'))).toBe('INTEGRITY_FAILURE');
    rawDirectory.putClient(client('planted', 'officer'));
    expect(codeOf(() => directory.getClientByName('planted'))).toBe('INTEGRITY_FAILURE');
  });

  it('renews under a fresh MAC, but never launders a forged row: a role raised in the file stays refused', () => {
    directory.putClient(client('app-1', 'app'));
    const renewed = { serialNumber: 'beef', fingerprint256: 'fp-new', notBefore: 'nb', notAfter: 'na' };
    expect(directory.replaceClientCertificate('app-1', renewed)).toEqual({ ...client('app-1', 'app'), ...renewed });
    expect(directory.getClientByFingerprint('fp-new')?.role).toBe('app');
    // The attack: raise the role in the file, then have an officer renew the client so the forged row gets a genuine MAC.
    tamper<ClientRecord>(rawDirectory, 'clients', 'app-1', (c) => ({ ...c, role: 'officer' }));
    expect(codeOf(() => directory.replaceClientCertificate('app-1', { ...renewed, fingerprint256: 'fp-newer' }))).toBe('INTEGRITY_FAILURE');
    expect(rawDirectory.getClientByName('app-1')?.fingerprint256).toBe('fp-new');
    keys = null;
    expect(codeOf(() => directory.replaceClientCertificate('app-1', renewed))).toBe('SEALED');
  });

  it('refuses a grant whose pattern was widened', () => {
    directory.putGrant({ id: 'g1', subjectKind: 'client', subject: 'app-1', pattern: 'hr/payroll', permissions: ['get'], createdAt: 'c', createdBy: 'o' });
    expect(directory.listGrants()).toHaveLength(1);
    tamper<{ pattern: string }>(rawDirectory, 'grants', 'g1', (g) => ({ ...g, pattern: '*' }));
    expect(codeOf(() => directory.listGrants())).toBe('INTEGRITY_FAILURE');
  });

  it('while sealed: clients read as stored (unverified), grants and dual control are SEALED, and nothing is written', () => {
    directory.putClient(client('app-1', 'app'));
    keys = null;
    expect(directory.getClientByFingerprint('fp-app-1')?.name).toBe('app-1');
    expect(codeOf(() => directory.listGrants())).toBe('SEALED');
    expect(codeOf(() => directory.putClient(client('app-2', 'app')))).toBe('SEALED');
    expect(codeOf(() => approvals.getQuorum('key-destroy'))).toBe('SEALED');
  });

  it("refuses a request whose required was lowered, a vote added underneath, and a quorum lowered", () => {
    approvals.putApproval(request('r1'));
    approvals.addVote('r1', { officer: 'officer-2', digest: 'd', at: 'a' });
    expect(approvals.getApproval('r1')?.votes).toEqual([{ officer: 'officer-2', digest: 'd', at: 'a' }]);
    expect(approvals.changeState({ id: 'r1', from: 'pending', to: 'denied', at: 'x', finishedBy: 'officer-3', reason: 'no' }).state).toBe('denied');
    approvals.putApproval(request('r2'));
    tamper<ApprovalRecord>(rawApprovals, 'requests', 'r2', (r) => ({ ...r, required: 1 }));
    expect(codeOf(() => approvals.getApproval('r2'))).toBe('INTEGRITY_FAILURE');
    approvals.putApproval(request('r3'));
    rawApprovals.addVote('r3', { officer: 'officer-9', digest: 'd', at: 'a' });
    expect(codeOf(() => approvals.listApprovals({ limit: 10 }))).toBe('INTEGRITY_FAILURE');
    approvals.putQuorum({ dualControlClass: 'key-destroy', required: 3, updatedAt: 'u', updatedBy: 'config' });
    expect(approvals.getQuorum('key-destroy')?.required).toBe(3);
    tamper<{ required: number }>(rawApprovals, 'quorums', 'key-destroy', (q) => ({ ...q, required: 1 }));
    expect(codeOf(() => approvals.getQuorum('key-destroy'))).toBe('INTEGRITY_FAILURE');
  });
});

describe('identity confirmation', () => {
  const keys = deriveTrustKeys('keychain-1', randomBytes(32));
  let sealed: boolean;
  let stamp: number;
  let raw: MemoryDirectory;
  let confirmation: IdentityConfirmation;
  const identity = { name: 'app-1', role: 'app' as const, groups: ['payments'], fingerprint256: 'fp-app-1', subject: 'CN=app-1' };

  beforeEach(() => {
    sealed = false;
    stamp = 0;
    raw = new MemoryDirectory();
    const directory = new AuthenticatedDirectory(raw, () => (sealed ? null : keys));
    directory.putClient(client('app-1', 'app'));
    confirmation = new IdentityConfirmation(directory, () => String(stamp), () => sealed);
  });

  it('accepts the identity its verified row gives; refuses a changed role, a revocation and a forged row once the stamp moves', () => {
    expect(() => confirmation.confirm(identity)).not.toThrow();
    expect(codeOf(() => confirmation.confirm({ ...identity, role: 'officer' }))).toBe('UNAUTHENTICATED');
    tamper<ClientRecord>(raw, 'clients', 'app-1', (c) => ({ ...c, groups: ['payments', 'admins'] }));
    stamp++;
    expect(codeOf(() => confirmation.confirm(identity))).toBe('INTEGRITY_FAILURE');
  });

  it('does not check while sealed (nothing can be verified; only the sealed operations run), nor the local operator', () => {
    sealed = true;
    expect(() => confirmation.confirm({ ...identity, role: 'officer' })).not.toThrow();
    sealed = false;
    expect(() => confirmation.confirm({ ...identity, name: 'local:root', fingerprint256: '', local: true, role: 'officer' })).not.toThrow();
  });
});
