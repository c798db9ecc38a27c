/**
 * The appliance's in-process event bus: what happened, for whoever listens
 * live (the WebSocket stream for officers and auditors, SIEM sinks). Audit
 * events are published only once durable in the local chain, with their
 * sequence number and chain hash, so a listener never sees an event the
 * trail does not hold.
 *
 * publish() is synchronous and never throws: a listener that throws is cut
 * off from that one event, not from the bus, and never reaches the caller
 * (serving a key must not fail because a subscriber did). Listeners must be
 * quick: anything slow (a network write) queues on the listener's side.
 */
import { AuditEvent } from '../audit/audit-event';

/** A durable audit event: its place in the chain and the event itself. */
export interface AuditLiveEvent {
  readonly kind: 'audit';
  readonly seq: number;
  /** Hex SHA-256 chain hash of this event (domain/audit/audit-chain.ts). */
  readonly hash: string;
  /** Hex chain hash of the event before it. */
  readonly prevHash: string;
  /** The canonical JSON that was hashed: a SIEM re-verifies the chain from it. */
  readonly canonical: string;
  readonly event: AuditEvent;
}

/** A dual-control request that was made, approved, denied, cancelled, expired or carried out. */
export interface ApprovalLiveEvent {
  readonly kind: 'approval';
  readonly action: 'requested' | 'approved' | 'denied' | 'cancelled' | 'expired' | 'executed' | 'failed';
  readonly requestId: string;
  readonly operation: string;
  /** The key's namespace when the request is about a key; null otherwise. */
  readonly namespace: string | null;
  readonly key: string | null;
  readonly requester: string;
  /** Who acted: the requester for `requested`, the officer who approved, denied or cancelled; null otherwise. */
  readonly actor: string | null;
  readonly approvals: number;
  readonly required: number;
  readonly digest: string;
  readonly expiresAt: string;
  readonly time: string;
}

/** A rollover that comes within rollover_notice. */
export interface RolloverNoticeLiveEvent {
  readonly kind: 'rollover-notice';
  readonly key: string;
  readonly namespace: string;
  readonly dueAt: string;
  readonly time: string;
}

/** A certificate of the appliance (CA, server, a client) within cert_expiry_warning of its end (server/compose/certificate-watch.ts). */
export interface CertificateExpiryLiveEvent {
  readonly kind: 'certificate-expiry';
  readonly certificate: 'ca' | 'server' | 'client';
  readonly name: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly time: string;
}

export type LiveEvent = AuditLiveEvent | ApprovalLiveEvent | RolloverNoticeLiveEvent | CertificateExpiryLiveEvent;
export type LiveEventKind = LiveEvent['kind'];
export type LiveEventListener = (event: LiveEvent) => void;

export class EventBus {
  private readonly listeners = new Set<LiveEventListener>();

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: LiveEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A faulty listener must not break the publisher (serving keys) or the other listeners.
      }
    }
  }
}
