/**
 * The directory as the appliance may trust it: a DirectoryStore over the
 * untrusted one that MACs every client and grant it writes and verifies
 * every one it reads (authorisation-row-macs.ts). Nothing can be verified
 * while the keychain is sealed (the keys derive from the keychain key), so
 * then:
 *   - clients are read as stored: a sealed appliance serves only the
 *     operations of access.ts ALLOWED_WHILE_SEALED (status, the unseal
 *     ceremony, whose shares authenticate themselves), and the dispatcher
 *     confirms each identity against a verified row once unsealed
 *     (domain/policy/identity-confirmation.ts);
 *   - grants are not read at all (SEALED), and nothing is written.
 * The records handed out carry no rowMac.
 */
import { KeychainError } from '../../common/errors';
import { ClientCertificateFields, ClientRecord, ClientRole, DirectoryStore, GrantRecord, SystemSecretRecord } from '../../storage/directory-store';
import { assertRowMac, clientRowMac, grantRowMac } from './authorisation-row-macs';
import { TrustKeys } from './trust-keys';

function sealedError(what: string): KeychainError {
  return new KeychainError('SEALED', `the keychain is sealed: ${what} was refused; unseal it (strongroom unseal), then try again`);
}

function bare<T extends { readonly rowMac?: Buffer }>(record: T): T {
  const { rowMac: _omit, ...rest } = record;
  return rest as T;
}

export class AuthenticatedDirectory implements DirectoryStore {
  constructor(private readonly raw: DirectoryStore, private readonly keys: () => TrustKeys | null) {}

  private require(what: string): TrustKeys {
    const keys = this.keys();
    if (keys === null) throw sealedError(what);
    return keys;
  }

  /** Verified when unsealed; as stored while sealed (see the file's comment). */
  private client(record: ClientRecord | null): ClientRecord | null {
    if (record === null) return null;
    const keys = this.keys();
    if (keys !== null) assertRowMac(clientRowMac(keys, bare(record)), record.rowMac, `record of client "${record.name}"`);
    return bare(record);
  }

  private grant(keys: TrustKeys, record: GrantRecord): GrantRecord {
    assertRowMac(grantRowMac(keys, bare(record)), record.rowMac, `grant ${record.id}`);
    return bare(record);
  }

  putClient(client: ClientRecord): void {
    const keys = this.require('issuing a client');
    const fields = bare(client);
    this.raw.putClient({ ...fields, rowMac: clientRowMac(keys, fields) });
  }

  getClientByName(name: string): ClientRecord | null {
    return this.client(this.raw.getClientByName(name));
  }

  getClientByFingerprint(fingerprint256: string): ClientRecord | null {
    return this.client(this.raw.getClientByFingerprint(fingerprint256));
  }

  listClients(): ClientRecord[] {
    return this.raw.listClients().map((c) => this.client(c) as ClientRecord);
  }

  revokeClient(name: string, revokedAt: string): ClientRecord {
    const keys = this.require('revoking a client');
    const current = this.client(this.raw.getClientByName(name));
    if (current === null || current.revokedAt !== null) return this.client(this.raw.revokeClient(name, revokedAt)) as ClientRecord;
    const revoked = { ...current, revokedAt };
    return this.client(this.raw.revokeClient(name, revokedAt, clientRowMac(keys, revoked))) as ClientRecord;
  }

  replaceClientCertificate(name: string, certificate: ClientCertificateFields): ClientRecord {
    const keys = this.require('renewing a client');
    // Verified first: a renewal must not launder a forged row (a role raised to officer) under a fresh MAC.
    const current = this.client(this.raw.getClientByName(name));
    if (current === null) return this.client(this.raw.replaceClientCertificate(name, certificate)) as ClientRecord;
    const { serialNumber, fingerprint256, notBefore, notAfter } = certificate;
    const renewed = { ...current, serialNumber, fingerprint256, notBefore, notAfter };
    return this.client(this.raw.replaceClientCertificate(name, certificate, clientRowMac(keys, renewed))) as ClientRecord;
  }

  countActiveClients(role: ClientRole): number {
    // Counted from verified rows: a forged officer row must not keep "the last officer" rule quiet.
    return this.listClients().filter((c) => c.role === role && c.revokedAt === null).length;
  }

  putGrant(grant: GrantRecord): void {
    const keys = this.require('granting');
    const fields = bare(grant);
    this.raw.putGrant({ ...fields, rowMac: grantRowMac(keys, fields) });
  }

  deleteGrant(id: string): GrantRecord {
    const keys = this.require('revoking a grant');
    const existing = this.raw.listGrants().find((g) => g.id === id);
    if (existing !== undefined) this.grant(keys, existing);
    return bare(this.raw.deleteGrant(id));
  }

  listGrants(): GrantRecord[] {
    const keys = this.require('reading grants');
    return this.raw.listGrants().map((g) => this.grant(keys, g));
  }

  putSystemSecret(secret: SystemSecretRecord): void {
    // Sealed under the keychain key with its name in the AAD (keys/keychain-seal.ts): authenticated already.
    this.raw.putSystemSecret(secret);
  }

  getSystemSecret(name: string): SystemSecretRecord | null {
    return this.raw.getSystemSecret(name);
  }
}
