/**
 * The client roles (docs: a client's role): `app` uses the keys it is
 * granted, `officer` administers the appliance, `auditor` reads the audit
 * trail and reports. The one list every layer uses: the wire schema, the
 * PKI, the client directory, the CLI and the client library. It imports
 * nothing, so the codecs and the client library may import it too. (The
 * SQL CHECK in storage/migrations.ts spells the list once more, as a
 * migration must: frozen at the schema version that wrote it.)
 */

export const CLIENT_ROLES = ['app', 'officer', 'auditor'] as const;

export type ClientRole = (typeof CLIENT_ROLES)[number];

export function isClientRole(value: unknown): value is ClientRole {
  return typeof value === 'string' && (CLIENT_ROLES as readonly string[]).includes(value);
}
