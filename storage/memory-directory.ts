/**
 * The in-memory directory store: the fast fake of storage/directory-store.ts,
 * with the same codes as SQLite. Records are copied in and out.
 */
import { StorageError } from '../common/errors';
import { ClientCertificateFields, ClientRecord, ClientRole, DirectoryStore, GrantRecord, SystemSecretRecord } from './directory-store';

export class MemoryDirectory implements DirectoryStore {
  private readonly clients = new Map<string, ClientRecord>();
  private readonly grants = new Map<string, GrantRecord>();
  private readonly secrets = new Map<string, SystemSecretRecord>();

  /** `changed` is called after every write, so the owning store can move its change stamp. */
  constructor(private readonly changed: () => void = () => undefined) {}

  putClient(client: ClientRecord): void {
    if (this.clients.has(client.name) || [...this.clients.values()].some((c) => c.fingerprint256 === client.fingerprint256)) {
      throw new StorageError('CLIENT_EXISTS', `a client named "${client.name}" (or with that certificate) already exists`, { details: { name: client.name } });
    }
    this.clients.set(client.name, { ...client, groups: [...client.groups] });
    this.changed();
  }

  getClientByName(name: string): ClientRecord | null {
    const client = this.clients.get(name);
    return client ? { ...client, groups: [...client.groups] } : null;
  }

  getClientByFingerprint(fingerprint256: string): ClientRecord | null {
    const client = [...this.clients.values()].find((c) => c.fingerprint256 === fingerprint256);
    return client ? { ...client, groups: [...client.groups] } : null;
  }

  listClients(): ClientRecord[] {
    return [...this.clients.keys()].sort().map((name) => this.getClientByName(name) as ClientRecord);
  }

  revokeClient(name: string, revokedAt: string, rowMac?: Buffer): ClientRecord {
    const client = this.clients.get(name);
    if (!client) throw new StorageError('CLIENT_NOT_FOUND', `no client named "${name}"`, { details: { name } });
    if (client.revokedAt === null) this.clients.set(name, { ...client, revokedAt, rowMac });
    this.changed();
    return this.getClientByName(name) as ClientRecord;
  }

  replaceClientCertificate(name: string, certificate: ClientCertificateFields, rowMac?: Buffer): ClientRecord {
    const client = this.clients.get(name);
    if (!client) throw new StorageError('CLIENT_NOT_FOUND', `no client named "${name}"`, { details: { name } });
    if ([...this.clients.values()].some((c) => c.name !== name && c.fingerprint256 === certificate.fingerprint256)) {
      throw new StorageError('CLIENT_EXISTS', 'another client already has that certificate', { details: { name } });
    }
    if (client.revokedAt !== null) throw new StorageError('WRONG_STATE', `client "${name}" is revoked; a revoked client is not renewed`, { details: { name } });
    const { serialNumber, fingerprint256, notBefore, notAfter } = certificate;
    this.clients.set(name, { ...client, serialNumber, fingerprint256, notBefore, notAfter, rowMac });
    this.changed();
    return this.getClientByName(name) as ClientRecord;
  }

  countActiveClients(role: ClientRole): number {
    return [...this.clients.values()].filter((c) => c.role === role && c.revokedAt === null).length;
  }

  putGrant(grant: GrantRecord): void {
    if (this.grants.has(grant.id)) throw new StorageError('STORAGE_ERROR', 'grant id exists', { details: { id: grant.id } });
    this.grants.set(grant.id, { ...grant, permissions: [...grant.permissions] });
    this.changed();
  }

  deleteGrant(id: string): GrantRecord {
    const grant = this.grants.get(id);
    if (!grant) throw new StorageError('GRANT_NOT_FOUND', `no grant with id "${id}"`, { details: { id } });
    this.grants.delete(id);
    this.changed();
    return grant;
  }

  listGrants(): GrantRecord[] {
    return [...this.grants.values()]
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1))
      .map((g) => ({ ...g, permissions: [...g.permissions] }));
  }

  putSystemSecret(secret: SystemSecretRecord): void {
    this.secrets.set(secret.name, { ...secret, sealed: Buffer.from(secret.sealed) });
    this.changed();
  }

  getSystemSecret(name: string): SystemSecretRecord | null {
    const secret = this.secrets.get(name);
    return secret ? { ...secret, sealed: Buffer.from(secret.sealed) } : null;
  }
}
