/**
 * The policy index's explanation (domain/policy/policy-index.ts `explain`,
 * behind PolicyCheck) against its decision (`allows`, behind every access
 * check): for any grants and any client, a permission is explained as
 * allowed exactly when it is allowed, and its sources are exactly the role
 * and the grants (the client's own, then its groups') that give it.
 */
import fc from 'fast-check';
import { PolicyIndex } from '../../../domain/policy/policy-index';
import { ClientIdentity } from '../../../domain/policy/identity';
import { PERMISSIONS } from '../../../domain/policy/permissions';
import { MemoryDirectory } from '../../../storage/memory-directory';
import { GrantRecord } from '../../../storage/directory-store';

const identity = (name: string, role: ClientIdentity['role'], groups: string[] = []): ClientIdentity => ({ name, role, groups, fingerprint256: name, subject: name });

function indexOf(grants: GrantRecord[]): PolicyIndex {
  const directory = new MemoryDirectory();
  for (const grant of grants) directory.putGrant(grant);
  return new PolicyIndex(directory, () => 'stamp');
}

const grant = (id: string, subjectKind: 'client' | 'group', subject: string, pattern: string, permissions: string[]): GrantRecord => ({
  id, subjectKind, subject, pattern, permissions, createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'test',
});

describe('PolicyIndex.explain', () => {
  it('names every grant that gives a permission, the client\'s own before its groups\', and the officer role', () => {
    const index = indexOf([
      grant('g-group', 'group', 'payroll', 'hr/*', ['encrypt', 'locate']),
      grant('g-own', 'client', 'app1', 'hr/payroll', ['encrypt']),
      grant('g-elsewhere', 'client', 'app1', 'crm/*', ['decrypt']),
    ]);
    const explained = new Map(index.explain(identity('app1', 'app', ['payroll']), 'hr/payroll').map((e) => [e.permission, e]));
    expect(explained.get('encrypt')?.sources.map((s) => (s.kind === 'grant' ? s.grant : s.kind))).toEqual(['g-own', 'g-group']);
    expect(explained.get('locate')).toMatchObject({ allowed: true, sources: [{ kind: 'grant', grant: 'g-group', subjectKind: 'group', subject: 'payroll', pattern: 'hr/*' }] });
    expect(explained.get('decrypt')).toEqual({ permission: 'decrypt', allowed: false, sources: [] });
    expect(index.explain(identity('admin', 'officer'), 'hr/payroll').find((e) => e.permission === 'rekey')?.sources).toEqual([{ kind: 'role', role: 'officer' }]);
    // An auditor's grants give it nothing: auditors use no key.
    const auditorIndex = indexOf([grant('g-aud', 'client', 'aud', '*', ['get'])]);
    expect(auditorIndex.explain(identity('aud', 'auditor'), 'hr/payroll').every((e) => !e.allowed)).toBe(true);
  });

  it('explains as allowed exactly what allows allows, for any grants, client and key', () => {
    const names = fc.constantFrom('app1', 'app2', 'officer1', 'aud');
    const groups = fc.constantFrom('payroll', 'ops');
    const patterns = fc.constantFrom('*', 'hr/*', 'hr/payroll', 'crm/*', '*/payroll', 'ops/*');
    const arbitraryGrant = fc.record({
      subjectKind: fc.constantFrom<'client' | 'group'>('client', 'group'),
      name: names,
      group: groups,
      pattern: patterns,
      permissions: fc.subarray([...PERMISSIONS], { minLength: 1 }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryGrant, { maxLength: 8 }), names, fc.constantFrom<ClientIdentity['role']>('app', 'officer', 'auditor'), fc.subarray(['payroll', 'ops']), fc.constantFrom('hr/payroll', 'crm/pii', 'ops/x'), (grants, name, role, memberOf, key) => {
        const index = indexOf(grants.map((g, i) => grant(`g${i}`, g.subjectKind, g.subjectKind === 'client' ? g.name : g.group, g.pattern, g.permissions)));
        const who = identity(name, role, memberOf);
        const explained = index.explain(who, key);
        expect(explained.map((e) => e.permission)).toEqual([...PERMISSIONS]);
        for (const e of explained) {
          expect(e.allowed).toBe(index.allows(who, e.permission, key));
          expect(e.allowed).toBe(e.sources.length > 0);
        }
      }),
    );
  });
});
