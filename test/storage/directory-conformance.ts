/**
 * The directory store's shared suite: clients, grants and sealed system
 * secrets behave the same on SQLite and in memory.
 */
import { KeychainStore } from '../../storage/keychain-store';
import { ClientRecord, GrantRecord } from '../../storage/directory-store';
import { codeOf } from '../support/error-code';

const client = (name: string, over: Partial<ClientRecord> = {}): ClientRecord => ({
  name,
  role: 'app',
  groups: ['payments'],
  serialNumber: `serial-${name}`,
  fingerprint256: `fp-${name}`,
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2027-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  revokedAt: null,
  ...over,
});

const grant = (id: string, over: Partial<GrantRecord> = {}): GrantRecord => ({
  id,
  subjectKind: 'group',
  subject: 'payments',
  pattern: 'pay/*',
  permissions: ['get', 'encrypt'],
  createdAt: `2026-01-0${id.length % 9 + 1}T00:00:00.000Z`,
  createdBy: 'admin',
  ...over,
});

export function describeDirectoryConformance(name: string, factory: () => { store: KeychainStore; cleanup(): void }): void {
  describe(`${name} directory store`, () => {
    let store: KeychainStore;
    let cleanup: () => void;
    beforeEach(() => ({ store, cleanup } = factory()));
    afterEach(() => cleanup());

    it('stores clients and finds them by name and fingerprint', () => {
      store.directory.putClient(client('app1'));
      store.directory.putClient(client('boss', { role: 'officer', groups: [] }));
      expect(store.directory.getClientByName('app1')).toEqual(client('app1'));
      expect(store.directory.getClientByFingerprint('fp-boss')?.role).toBe('officer');
      expect(store.directory.getClientByName('nobody')).toBeNull();
      expect(store.directory.listClients().map((c) => c.name)).toEqual(['app1', 'boss']);
      expect(store.directory.countActiveClients('officer')).toBe(1);
    });

    it('refuses a taken name or fingerprint with CLIENT_EXISTS', () => {
      store.directory.putClient(client('app1'));
      expect(codeOf(() => store.directory.putClient(client('app1', { fingerprint256: 'other' })))).toBe('CLIENT_EXISTS');
      expect(codeOf(() => store.directory.putClient(client('app2', { fingerprint256: 'fp-app1' })))).toBe('CLIENT_EXISTS');
    });

    it('revokes once, keeping the first date', () => {
      store.directory.putClient(client('app1'));
      expect(store.directory.revokeClient('app1', '2026-02-01T00:00:00.000Z').revokedAt).toBe('2026-02-01T00:00:00.000Z');
      expect(store.directory.revokeClient('app1', '2026-03-01T00:00:00.000Z').revokedAt).toBe('2026-02-01T00:00:00.000Z');
      expect(store.directory.countActiveClients('app')).toBe(0);
      expect(codeOf(() => store.directory.revokeClient('ghost', 'x'))).toBe('CLIENT_NOT_FOUND');
    });

    it('replaces a client certificate (renewal), keeping name, role, groups and creation; refuses a revoked, unknown or clashing one', () => {
      store.directory.putClient(client('app1'));
      store.directory.putClient(client('app2'));
      const renewed = { serialNumber: 'beef', fingerprint256: 'fp-new', notBefore: '2027-01-01T00:00:00.000Z', notAfter: '2028-01-01T00:00:00.000Z' };
      expect(store.directory.replaceClientCertificate('app1', renewed)).toEqual({ ...client('app1'), ...renewed });
      expect(store.directory.getClientByFingerprint('fp-new')?.name).toBe('app1');
      expect(store.directory.getClientByFingerprint('fp-app1')).toBeNull();
      expect(codeOf(() => store.directory.replaceClientCertificate('app2', renewed))).toBe('CLIENT_EXISTS');
      expect(codeOf(() => store.directory.replaceClientCertificate('ghost', { ...renewed, fingerprint256: 'x' }))).toBe('CLIENT_NOT_FOUND');
      store.directory.revokeClient('app2', '2026-02-01T00:00:00.000Z');
      expect(codeOf(() => store.directory.replaceClientCertificate('app2', { ...renewed, fingerprint256: 'y' }))).toBe('WRONG_STATE');
      expect(store.directory.getClientByName('app2')?.fingerprint256).toBe('fp-app2');
    });

    it('adds, lists and deletes grants', () => {
      store.directory.putGrant(grant('g1'));
      store.directory.putGrant(grant('g22', { subjectKind: 'client', subject: 'app1', permissions: ['decrypt'] }));
      expect(store.directory.listGrants().map((g) => g.id)).toEqual(['g1', 'g22']);
      expect(store.directory.deleteGrant('g1')).toEqual(grant('g1'));
      expect(store.directory.listGrants()).toHaveLength(1);
      expect(codeOf(() => store.directory.deleteGrant('g1'))).toBe('GRANT_NOT_FOUND');
    });

    it('keeps sealed system secrets, replacing on put, as copies', () => {
      store.directory.putSystemSecret({ name: 'pki/ca-key', sealed: Buffer.from([1, 2, 3]), sealVersion: 1, createdAt: 't1' });
      store.directory.putSystemSecret({ name: 'pki/ca-key', sealed: Buffer.from([4, 5]), sealVersion: 1, createdAt: 't2' });
      const got = store.directory.getSystemSecret('pki/ca-key');
      expect(got?.sealed).toEqual(Buffer.from([4, 5]));
      got?.sealed.fill(0);
      expect(store.directory.getSystemSecret('pki/ca-key')?.sealed).toEqual(Buffer.from([4, 5]));
      expect(store.directory.getSystemSecret('absent')).toBeNull();
    });

    it('moves its change stamp on every write', () => {
      const before = store.changeStamp();
      store.directory.putGrant(grant('g1'));
      const afterGrant = store.changeStamp();
      expect(afterGrant).not.toBe(before);
      expect(store.changeStamp()).toBe(afterGrant);
    });
  });
}
