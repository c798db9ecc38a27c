/**
 * The live event stream's wire format (docs/protocol.md §8), shared by the
 * server and the client library: the URL path, the close codes and HTTP
 * statuses with the error codes they stand for, and the text of each
 * message. Pure: no I/O, no clock.
 *
 * Every message is one JSON document `{ "kind": … }`. An audit event is the
 * audit export line (audit-line.ts) with `kind` in front, so a
 * follower can re-verify the hash chain (parseAuditLine reads the lines
 * `strongroom events --json --type audit` prints).
 */
import { auditLineOfLive } from './audit-line';
import { LiveEvent } from '../domain/events/event-bus';

/** The one path of the event endpoint. */
export const EVENTS_PATH = '/events';

/** Largest message a subscriber may send (a subscribe message): anything bigger closes the stream (1009). */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** WebSocket close codes the server uses, and what each means. */
export const CLOSE_CODES = {
  /** The subscriber closed, or the server closed after a --limit the client asked for. */
  NORMAL: 1000,
  /** The server is shutting down: reconnect later. */
  GOING_AWAY: 1001,
  /** A message the subscriber sent was larger than MAX_CLIENT_MESSAGE_BYTES. */
  MESSAGE_TOO_BIG: 1009,
  /** A subscribe message (or other message) the server does not accept. */
  BAD_SUBSCRIPTION: 4400,
  /** The client was revoked, or its certificate expired, while subscribed. */
  UNAUTHENTICATED: 4401,
  /** The subscriber did not read: more than event_buffer_bytes were waiting for it. */
  TOO_SLOW: 4408,
  /** The subscription could not be recorded in the audit trail (fail closed). */
  AUDIT_UNAVAILABLE: 4503,
} as const;

/** The error code a close code stands for (a close the subscriber did not ask for is an error). */
export function errorCodeOfClose(code: number): string {
  switch (code) {
    case CLOSE_CODES.BAD_SUBSCRIPTION:
    case CLOSE_CODES.MESSAGE_TOO_BIG:
      return 'INVALID_ARGUMENT';
    case CLOSE_CODES.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case CLOSE_CODES.TOO_SLOW:
      return 'SUBSCRIBER_TOO_SLOW';
    case CLOSE_CODES.AUDIT_UNAVAILABLE:
      return 'AUDIT_UNAVAILABLE';
    default:
      return 'UNAVAILABLE';
  }
}

/** HTTP statuses of a refused upgrade; the body is `{"error":{"code","message"}}`. */
export const HTTP_STATUS_OF_CODE: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  INVALID_REQUEST: 404,
  SERVER_BUSY: 503,
  AUDIT_UNAVAILABLE: 503,
};

/** The error code of a refused upgrade's status, when its body could not be read. */
export function errorCodeOfStatus(status: number): string {
  for (const [code, value] of Object.entries(HTTP_STATUS_OF_CODE)) if (value === status && code !== 'AUDIT_UNAVAILABLE') return code;
  return 'UNAVAILABLE';
}

/** The filter as the server applied it, echoed in the `subscribed` message. */
export interface FilterView {
  readonly types: readonly string[];
  readonly auditTypes: readonly string[] | null;
  readonly namespaces: readonly string[] | null;
}

/** The first message of every stream, and the answer to each subscribe message. */
export interface SubscribedMessage {
  readonly kind: 'subscribed';
  readonly subscription: string;
  readonly identity: { readonly name: string; readonly role: string };
  readonly filter: FilterView;
}

/** One message's text. Audit events: the chain line with `kind` first. */
export function encodeLiveEvent(event: LiveEvent): string {
  if (event.kind === 'audit') return `{"kind":"audit",${auditLineOfLive(event).slice(1)}`;
  return JSON.stringify(event);
}

export function encodeSubscribed(message: SubscribedMessage): string {
  return JSON.stringify(message);
}

/** The body of a refused upgrade. */
export function encodeRefusalBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
