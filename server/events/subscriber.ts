/**
 * One subscriber of the live event stream: an officer's or auditor's
 * WebSocket, its filter, and what it has been sent. Sending never waits:
 * when more than `maxBufferedBytes` are already queued for a subscriber
 * that does not read, it is dropped (close code 4408) instead of being
 * buffered for, so a slow subscriber costs a bounded amount of memory and
 * never slows the publisher (serving keys). A subscriber that has not
 * answered the previous ping by the next one is dropped too.
 *
 * A subscriber starts inactive: it receives events only once the audit
 * event of its own subscription is durable (activate()), so nothing is
 * streamed to someone the trail does not show as subscribed.
 */
import type { WebSocket } from 'ws';
import { Timers } from '../../common/timers';
import { LiveEvent } from '../../domain/events/event-bus';
import { ClientIdentity } from '../../domain/policy/identity';
import { CLOSE_CODES, encodeSubscribed } from '../../protocol/event-wire';
import { EventFilter, filterFromMessage, matches, viewOfFilter } from './event-filter';

/** A close reason is at most 123 bytes (RFC 6455 §5.5: control frames carry 125, 2 are the code). */
const MAX_CLOSE_REASON_BYTES = 123;

/** How long a closed stream waits for the peer's close frame before the socket is destroyed (a peer that does not read never sends it). */
export const CLOSE_TIMEOUT_MS = 1000;

/**
 * Within one turn of the event loop a whole audit commit (up to thousands of
 * events) is sent at once, before the socket could flush any of it: what is
 * sent in the current turn counts against the buffer only beyond this many
 * times maxBufferedBytes, so a burst does not drop a subscriber that keeps
 * up, and memory stays bounded even within a burst.
 */
export const BURST_FACTOR = 4;

/** Why the subscription ended, as the audit trail records it. */
export interface CloseCause {
  readonly code: number;
  /** `ok`, or the error code (SUBSCRIBER_TOO_SLOW, UNAUTHENTICATED, …). */
  readonly result: string;
  readonly reason: string;
}

export interface SubscriberOptions {
  readonly maxBufferedBytes: number;
  readonly timers: Timers;
  /** Told once, when the WebSocket has closed, with the cause the server gave (or the subscriber's own close). */
  readonly onClosed: (subscriber: Subscriber, cause: CloseCause) => void;
}

function truncateReason(reason: string): string {
  let text = reason;
  while (Buffer.byteLength(text, 'utf8') > MAX_CLOSE_REASON_BYTES) text = text.slice(0, -1);
  return text;
}

export class Subscriber {
  private active = false;
  private answeredPing = true;
  private cause: CloseCause | null = null;
  private ended = false;
  /** Bytes sent during the current turn of the event loop (reset by setImmediate). */
  private sentThisTurn = 0;
  /** Events sent to this subscriber (the close audit event says how many). */
  delivered = 0;

  constructor(
    private readonly ws: WebSocket,
    readonly id: string,
    readonly identity: ClientIdentity,
    readonly source: string | null,
    private filter: EventFilter,
    private readonly options: SubscriberOptions,
  ) {
    ws.on('pong', () => (this.answeredPing = true));
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on('error', () => undefined); // the close event follows; the cause is recorded there
    ws.on('close', (code: number, reason: Buffer) => this.onClose(code, reason));
  }

  get currentFilter(): EventFilter {
    return this.filter;
  }

  get isOpen(): boolean {
    return !this.ended && this.cause === null;
  }

  /** Starts the stream: the `subscribed` message, then events. */
  activate(): void {
    if (!this.isOpen) return;
    this.active = true;
    this.sendSubscribed();
  }

  /** Sends `event` if it passes the filter; `text` encodes it (once, shared by all subscribers). */
  deliver(event: LiveEvent, text: () => string): void {
    if (!this.active || !this.isOpen || !matches(this.filter, event)) return;
    const message = text();
    const bytes = Buffer.byteLength(message, 'utf8');
    const buffered = this.ws.bufferedAmount;
    // Left over from earlier turns: the subscriber is not reading what it was sent.
    const carried = buffered - this.sentThisTurn;
    if (carried > this.options.maxBufferedBytes || buffered + bytes > this.options.maxBufferedBytes * BURST_FACTOR) {
      this.close(CLOSE_CODES.TOO_SLOW, 'SUBSCRIBER_TOO_SLOW', `dropped: more than ${this.options.maxBufferedBytes} bytes of events waiting to be read`);
      return;
    }
    if (this.sentThisTurn === 0) setImmediate(() => (this.sentThisTurn = 0));
    this.sentThisTurn += bytes;
    this.ws.send(message);
    this.delivered++;
  }

  /** Keepalive: drops a subscriber that did not answer the previous ping. */
  ping(): void {
    if (!this.isOpen) return;
    if (!this.answeredPing) {
      this.cause = { code: 1006, result: 'UNAVAILABLE', reason: 'no answer to the keepalive ping' };
      this.ws.terminate();
      return;
    }
    this.answeredPing = false;
    this.ws.ping();
  }

  /** Closes with a code and reason the subscriber can read (the server's close timeout then destroys a silent peer). */
  close(code: number, result: string, reason: string): void {
    if (!this.isOpen) return;
    this.cause = { code, result, reason };
    this.ws.close(code, truncateReason(reason));
    const deadline = this.options.timers.after(CLOSE_TIMEOUT_MS, () => this.ws.terminate());
    this.ws.once('close', () => deadline.cancel());
  }

  /** Ends the stream at once, without a close handshake (shutdown after the grace period). */
  terminate(): void {
    this.ws.terminate();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!this.isOpen) return;
    try {
      if (isBinary) throw new Error('the event stream takes text messages only: {"op":"subscribe", …}');
      let parsed: unknown;
      try {
        parsed = JSON.parse(data.toString('utf8'));
      } catch {
        throw new Error('not JSON: the event stream takes {"op":"subscribe", …}');
      }
      this.filter = filterFromMessage(parsed);
    } catch (err) {
      this.close(CLOSE_CODES.BAD_SUBSCRIPTION, 'INVALID_ARGUMENT', (err as Error).message);
      return;
    }
    if (this.active) this.sendSubscribed();
  }

  private sendSubscribed(): void {
    this.ws.send(encodeSubscribed({ kind: 'subscribed', subscription: this.id, identity: { name: this.identity.name, role: this.identity.role }, filter: viewOfFilter(this.filter) }));
  }

  private onClose(code: number, reason: Buffer): void {
    if (this.ended) return;
    this.ended = true;
    this.active = false;
    const cause = this.cause ?? { code, result: code === CLOSE_CODES.NORMAL || code === 1005 ? 'ok' : 'UNAVAILABLE', reason: truncateReason(reason.toString('utf8')) || 'closed by the subscriber' };
    this.options.onClosed(this, cause);
  }
}
