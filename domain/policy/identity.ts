/**
 * Who is asking: the client record a TLS peer certificate maps to, or the
 * local operator of the CLI's local mode (server/local/local-operator.ts).
 * The role and groups come from the appliance's own records (looked up by
 * certificate fingerprint), never from fields of the certificate itself.
 */
import { ClientRole } from '../vocabulary/client-roles';

export interface ClientIdentity {
  readonly name: string;
  readonly role: ClientRole;
  readonly groups: readonly string[];
  readonly fingerprint256: string;
  readonly subject: string;
  /**
   * The local operator (no certificate): it may not ask for dual-controlled
   * operations nor vote on them, since no officer's approval can be counted
   * against an identity that has no certificate.
   */
  readonly local?: boolean;
}
