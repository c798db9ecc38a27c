/**
 * Who is on the other end of a TLS socket of the appliance's listeners (the
 * native protocol's and the event stream's): the peer certificate must be
 * from the appliance CA and valid now, and its SHA-256 fingerprint must name
 * a client record that is not revoked (docs/protocol.md §1, §5). One place
 * decides it, so both listeners refuse exactly the same certificates and
 * describe a refusal the same way for the audit trail.
 */
import { TLSSocket } from 'node:tls';
import { Clock } from '../../common/clock';
import { Timers } from '../../common/timers';
import { fingerprintOfDer } from '../../domain/pki/certificate-info';
import { ClientIdentity } from '../../domain/policy/identity';

/** What the audit trail records of a refused peer (domain/audit/audit-events.ts authFailureEvent). */
export interface PeerRefusal {
  readonly source: string | null;
  readonly fingerprint256: string | null;
  readonly subject: string | null;
  readonly reason: string;
}

export type PeerCheck =
  | { readonly ok: true; readonly identity: ClientIdentity; readonly validTo: string }
  | { readonly ok: false; readonly refusal: PeerRefusal; readonly tlsVerified: boolean };

/** setTimeout's ceiling (about 24.8 days); a connection alive that long is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The identity of an established TLS socket's peer, or why it is refused.
 * `tlsVerified` tells a refusal of the certificate chain itself (another CA,
 * expired, none) from a valid certificate that names no active client.
 */
export function identifyPeer(socket: TLSSocket, resolveIdentity: (fingerprint256: string) => ClientIdentity | null): PeerCheck {
  const peer = socket.getPeerCertificate();
  const hasPeer = peer !== null && peer !== undefined && Object.keys(peer).length > 0;
  const fingerprint = hasPeer && peer.raw ? fingerprintOfDer(peer.raw) : '';
  const identity = socket.authorized && fingerprint ? resolveIdentity(fingerprint) : null;
  if (socket.authorized && identity !== null) return { ok: true, identity, validTo: peer.valid_to };
  return {
    ok: false,
    tlsVerified: socket.authorized,
    refusal: {
      source: socket.remoteAddress ?? null,
      fingerprint256: fingerprint || null,
      subject: hasPeer && peer.subject?.CN ? `CN=${peer.subject.CN}` : null,
      reason: socket.authorized ? 'UNAUTHENTICATED: unknown or revoked certificate' : `UNAUTHENTICATED: ${String(socket.authorizationError ?? 'no client certificate')}`,
    },
  };
}

/** Calls `expire` when the peer certificate's validity ends (an open connection does not outlive its certificate). */
export function closeAtCertificateExpiry(socket: TLSSocket, validTo: string, time: { readonly clock: Clock; readonly timers: Timers }, expire: () => void): void {
  const expiresInMs = Date.parse(validTo) - time.clock.nowMs();
  if (!Number.isFinite(expiresInMs)) return;
  const expiry = time.timers.after(Math.max(0, Math.min(expiresInMs, MAX_TIMER_MS)), expire);
  socket.on('close', () => expiry.cancel());
}
