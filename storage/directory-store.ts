/**
 * The directory store port: who may connect (client records bound to
 * certificate fingerprints), what they may do (grants), and the appliance's
 * own sealed secrets (the CA and server TLS private keys, sealed under the
 * keychain key like any instance). Same rules as the keychain store: the
 * store is untrusted and sees only sealed bytes; each write is atomic; absent
 * rows are null; name clashes have their own codes (CLIENT_EXISTS).
 */

import type { ClientRole } from '../domain/vocabulary/client-roles';

export type { ClientRole };

export interface ClientRecord {
  readonly name: string;
  readonly role: ClientRole;
  readonly groups: readonly string[];
  /** Hex serial number of the certificate issued to this client. */
  readonly serialNumber: string;
  /** SHA-256 of the certificate's DER, lower-case hex: how a TLS peer is recognised. */
  readonly fingerprint256: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  /**
   * HMAC of the row's fields under the appliance's row key (domain/trust/):
   * set by the domain's authenticating layer, kept as is by the store.
   * Absent on a row written before schema 12.
   */
  readonly rowMac?: Buffer;
}

/** The fields of a client record that a renewal replaces. */
export type ClientCertificateFields = Pick<ClientRecord, 'serialNumber' | 'fingerprint256' | 'notBefore' | 'notAfter'>;

export type GrantSubjectKind = 'client' | 'group';

export interface GrantRecord {
  readonly id: string;
  readonly subjectKind: GrantSubjectKind;
  readonly subject: string;
  /** Glob on full key names: `*` matches any run of characters. */
  readonly pattern: string;
  readonly permissions: readonly string[];
  readonly createdAt: string;
  readonly createdBy: string;
  /**
   * HMAC of the row's fields under the appliance's row key (domain/trust/):
   * set by the domain's authenticating layer, kept as is by the store.
   * Absent on a row written before schema 12.
   */
  readonly rowMac?: Buffer;
}

export interface SystemSecretRecord {
  /** e.g. `pki/ca-key`, `pki/server-key`. */
  readonly name: string;
  readonly sealed: Buffer;
  readonly sealVersion: number;
  readonly createdAt: string;
}

export interface DirectoryStore {
  /** CLIENT_EXISTS when the name or the fingerprint is taken. */
  putClient(client: ClientRecord): void;
  getClientByName(name: string): ClientRecord | null;
  getClientByFingerprint(fingerprint256: string): ClientRecord | null;
  /** Ordered by name. */
  listClients(): ClientRecord[];
  /** CLIENT_NOT_FOUND when absent; revoking twice keeps the first date (and the first row MAC). */
  revokeClient(name: string, revokedAt: string, rowMac?: Buffer): ClientRecord;
  /** Clients, not revoked, that hold the role (for "the last officer" rules). */
  countActiveClients(role: ClientRole): number;
  /**
   * A renewal: the client's certificate fields replaced (and its row MAC).
   * CLIENT_NOT_FOUND when absent, WRONG_STATE when revoked, CLIENT_EXISTS
   * when another client has that fingerprint.
   */
  replaceClientCertificate(name: string, certificate: ClientCertificateFields, rowMac?: Buffer): ClientRecord;

  putGrant(grant: GrantRecord): void;
  /** GRANT_NOT_FOUND when absent; returns what was deleted. */
  deleteGrant(id: string): GrantRecord;
  /** Ordered by creation, then id. */
  listGrants(): GrantRecord[];

  /** Inserts or replaces. */
  putSystemSecret(secret: SystemSecretRecord): void;
  getSystemSecret(name: string): SystemSecretRecord | null;
}
