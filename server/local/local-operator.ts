/**
 * Who a local-mode CLI command runs as: the local operator, an officer
 * named after the OS account (`local:root`), with no certificate. The
 * dispatcher treats it as any officer, except that it can neither ask for
 * nor give dual-control consent (no certificate to count an approval
 * against): those requests are refused with DUAL_CONTROL_LOCAL_MODE
 * (operations/access.ts). The trail records it under that name, from source
 * `local`.
 */
import { userInfo } from 'node:os';
import { ClientIdentity } from '../../domain/policy/identity';

/** The `source` of a local-mode request in the audit trail (a TLS request has the peer's address). */
export const LOCAL_SOURCE = 'local';

export function localOperator(): ClientIdentity {
  let name = 'unknown';
  let uid = -1;
  try {
    const info = userInfo();
    name = info.username;
    uid = info.uid;
  } catch {
    // No passwd entry (containers): keep the uid-less name.
  }
  return { name: `local:${name}`, role: 'officer', groups: [], fingerprint256: '', subject: `uid=${uid}`, local: true };
}
