/**
 * The directory store (storage/directory-store.ts) on the keychain's shared
 * connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts): clients, grants and sealed system secrets. Writes go through
 * the owning store's transaction wrapper so they share its error mapping,
 * atomicity and write lock.
 */
import { Statement, StatementDatabase } from './capability-connection';
import { StorageError } from '../common/errors';
import { ClientCertificateFields, ClientRecord, ClientRole, DirectoryStore, GrantRecord, SystemSecretRecord } from './directory-store';

const CLIENT_COLUMNS = `name, role, groups, serial_number AS serialNumber, fingerprint256,
  not_before AS notBefore, not_after AS notAfter, created_at AS createdAt, revoked_at AS revokedAt, row_mac AS rowMac`;
const GRANT_COLUMNS = `id, subject_kind AS subjectKind, subject, pattern, permissions, created_at AS createdAt, created_by AS createdBy, row_mac AS rowMac`;

const SQL = {
  insertClient: `INSERT INTO clients (name, role, groups, serial_number, fingerprint256, not_before, not_after, created_at, revoked_at, row_mac)
    VALUES (@name, @role, @groups, @serialNumber, @fingerprint256, @notBefore, @notAfter, @createdAt, @revokedAt, @rowMac)`,
  clientByName: `SELECT ${CLIENT_COLUMNS} FROM clients WHERE name = ?`,
  clientByFingerprint: `SELECT ${CLIENT_COLUMNS} FROM clients WHERE fingerprint256 = ?`,
  clientClash: `SELECT 1 FROM clients WHERE name = ? OR fingerprint256 = ?`,
  listClients: `SELECT ${CLIENT_COLUMNS} FROM clients ORDER BY name`,
  revokeClient: `UPDATE clients SET revoked_at = ?, row_mac = ? WHERE name = ? AND revoked_at IS NULL`,
  clientExists: `SELECT 1 FROM clients WHERE name = ?`,
  replaceCertificate: `UPDATE clients SET serial_number = @serialNumber, fingerprint256 = @fingerprint256, not_before = @notBefore, not_after = @notAfter, row_mac = @rowMac
    WHERE name = @name AND revoked_at IS NULL`,
  fingerprintTaken: `SELECT 1 FROM clients WHERE fingerprint256 = ? AND name <> ?`,
  countActive: `SELECT count(*) AS n FROM clients WHERE role = ? AND revoked_at IS NULL`,
  insertGrant: `INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac)
    VALUES (@id, @subjectKind, @subject, @pattern, @permissions, @createdAt, @createdBy, @rowMac)`,
  grantById: `SELECT ${GRANT_COLUMNS} FROM grants WHERE id = ?`,
  deleteGrant: `DELETE FROM grants WHERE id = ?`,
  listGrants: `SELECT ${GRANT_COLUMNS} FROM grants ORDER BY created_at, id`,
  putSecret: `INSERT INTO system_secrets (name, sealed, seal_version, created_at) VALUES (@name, @sealed, @sealVersion, @createdAt)
    ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, seal_version = excluded.seal_version, created_at = excluded.created_at`,
  getSecret: `SELECT name, sealed, seal_version AS sealVersion, created_at AS createdAt FROM system_secrets WHERE name = ?`,
} as const;

type Row = Record<string, unknown>;

/** The stored MAC, or none for an empty one (a row from before schema 12). */
function macOf(row: Row): Buffer | undefined {
  const mac = row.rowMac as Buffer | null;
  return mac !== null && mac.length > 0 ? mac : undefined;
}

function clientFromRow(row: Row): ClientRecord {
  return { ...(row as unknown as ClientRecord), groups: JSON.parse(row.groups as string) as string[], rowMac: macOf(row) };
}

function grantFromRow(row: Row): GrantRecord {
  return { ...(row as unknown as GrantRecord), permissions: JSON.parse(row.permissions as string) as string[], rowMac: macOf(row) };
}

export function storedMac(mac: Buffer | undefined): Buffer {
  return mac ?? Buffer.alloc(0);
}

export type WriteRunner = <T>(operation: string, fn: () => T) => T;
export type ReadRunner = <T>(operation: string, fn: () => T) => T;

export class SqliteDirectory implements DirectoryStore {
  private readonly stmt: { [K in keyof typeof SQL]: Statement };

  constructor(db: StatementDatabase, private readonly write: WriteRunner, private readonly read: ReadRunner) {
    this.stmt = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as SqliteDirectory['stmt'];
  }

  putClient(client: ClientRecord): void {
    this.write('putClient', () => {
      if (this.stmt.clientClash.get(client.name, client.fingerprint256) !== undefined) {
        throw new StorageError('CLIENT_EXISTS', `a client named "${client.name}" (or with that certificate) already exists`, { details: { name: client.name } });
      }
      this.stmt.insertClient.run({ ...client, groups: JSON.stringify(client.groups), rowMac: storedMac(client.rowMac) });
    });
  }

  getClientByName(name: string): ClientRecord | null {
    const row = this.read('getClientByName', () => this.stmt.clientByName.get(name) as Row | undefined);
    return row ? clientFromRow(row) : null;
  }

  getClientByFingerprint(fingerprint256: string): ClientRecord | null {
    const row = this.read('getClientByFingerprint', () => this.stmt.clientByFingerprint.get(fingerprint256) as Row | undefined);
    return row ? clientFromRow(row) : null;
  }

  listClients(): ClientRecord[] {
    return this.read('listClients', () => (this.stmt.listClients.all() as Row[]).map(clientFromRow));
  }

  revokeClient(name: string, revokedAt: string, rowMac?: Buffer): ClientRecord {
    return this.write('revokeClient', () => {
      if (this.stmt.revokeClient.run(revokedAt, storedMac(rowMac), name).changes === 0 && this.stmt.clientExists.get(name) === undefined) {
        throw new StorageError('CLIENT_NOT_FOUND', `no client named "${name}"`, { details: { name } });
      }
      return clientFromRow(this.stmt.clientByName.get(name) as Row);
    });
  }

  replaceClientCertificate(name: string, certificate: ClientCertificateFields, rowMac?: Buffer): ClientRecord {
    return this.write('replaceClientCertificate', () => {
      if (this.stmt.fingerprintTaken.get(certificate.fingerprint256, name) !== undefined) {
        throw new StorageError('CLIENT_EXISTS', `another client already has that certificate`, { details: { name } });
      }
      const { serialNumber, fingerprint256, notBefore, notAfter } = certificate;
      if (this.stmt.replaceCertificate.run({ name, serialNumber, fingerprint256, notBefore, notAfter, rowMac: storedMac(rowMac) }).changes === 0) {
        if (this.stmt.clientExists.get(name) === undefined) throw new StorageError('CLIENT_NOT_FOUND', `no client named "${name}"`, { details: { name } });
        throw new StorageError('WRONG_STATE', `client "${name}" is revoked; a revoked client is not renewed`, { details: { name } });
      }
      return clientFromRow(this.stmt.clientByName.get(name) as Row);
    });
  }

  countActiveClients(role: ClientRole): number {
    return this.read('countActiveClients', () => (this.stmt.countActive.get(role) as { n: number }).n);
  }

  putGrant(grant: GrantRecord): void {
    this.write('putGrant', () => this.stmt.insertGrant.run({ ...grant, permissions: JSON.stringify(grant.permissions), rowMac: storedMac(grant.rowMac) }));
  }

  deleteGrant(id: string): GrantRecord {
    return this.write('deleteGrant', () => {
      const row = this.stmt.grantById.get(id) as Row | undefined;
      if (!row) throw new StorageError('GRANT_NOT_FOUND', `no grant with id "${id}"`, { details: { id } });
      this.stmt.deleteGrant.run(id);
      return grantFromRow(row);
    });
  }

  listGrants(): GrantRecord[] {
    return this.read('listGrants', () => (this.stmt.listGrants.all() as Row[]).map(grantFromRow));
  }

  putSystemSecret(secret: SystemSecretRecord): void {
    this.write('putSystemSecret', () => this.stmt.putSecret.run(secret));
  }

  getSystemSecret(name: string): SystemSecretRecord | null {
    return this.read('getSystemSecret', () => (this.stmt.getSecret.get(name) as SystemSecretRecord | undefined) ?? null);
  }
}
