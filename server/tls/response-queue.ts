/**
 * The responses of one connection, in request order, written with as few TLS
 * writes as the event loop allows. A response that is ready while nothing is
 * pending before it is written at once; one that waits (its audit event's
 * group commit, an asynchronous operation) holds a slot, and the responses
 * after it wait behind it. Slots are filled by callbacks, not chained
 * promises: when a group commit releases every response waiting on it, each
 * connection writes its run of ready responses in one go.
 *
 * Writes made in one turn of the event loop are corked and leave together
 * (one TLS record and one syscall instead of one per response: pipelined
 * clients, and the many responses a commit releases at once); the cork is
 * lifted on the next tick, after the current microtask burst.
 */
import { TLSSocket } from 'node:tls';

/** Encodes a response when its turn to be written comes (so its buffers are zeroed right after). */
export type Encode = () => Buffer;

interface Slot {
  encode: Encode | null;
}

export class ResponseQueue {
  private readonly slots: Slot[] = [];
  private corked = false;
  private idleWaiters: Array<() => void> = [];
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /** `write` puts one encoded response on the socket (the connection's own: timers, zeroing, back-pressure). */
  constructor(
    private readonly socket: TLSSocket,
    private readonly write: (bytes: Buffer) => void,
  ) {}

  /** Responses not yet written (pending ones and the ready ones behind them). */
  get pending(): number {
    return this.slots.length;
  }

  /** A response ready now: written at once, or behind the pending ones. */
  ready(encode: Encode): void {
    if (this.slots.length === 0) this.put(encode);
    else this.slots.push({ encode });
  }

  /** Holds the next place in order; the returned function fills it (once) and writes every ready response at the head. */
  reserve(): (encode: Encode) => void {
    const slot: Slot = { encode: null };
    this.slots.push(slot);
    return (encode) => {
      if (slot.encode !== null) return;
      slot.encode = encode;
      this.writeReadyHead();
    };
  }

  /** Resolves once every reserved response has been written (at once if none is pending). */
  idle(): Promise<void> {
    if (this.slots.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private writeReadyHead(): void {
    while (this.slots.length > 0 && this.slots[0].encode !== null) this.put(this.slots.shift()!.encode!);
    if (this.slots.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private put(encode: Encode): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.write(encode());
  }
}
