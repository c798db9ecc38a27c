/**
 * Who is asking: the client record a TLS peer certificate maps to. The role
 * and groups come from the appliance's own records (looked up by certificate
 * fingerprint), never from fields of the certificate itself.
 */
import { ClientRole } from '../vocabulary/client-roles';

export interface ClientIdentity {
  readonly name: string;
  readonly role: ClientRole;
  readonly groups: readonly string[];
  readonly fingerprint256: string;
  readonly subject: string;
}
