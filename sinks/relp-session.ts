/**
 * One RELP session over a connected socket (TCP, or TLS from the first
 * byte, as librelp's TLS is): the `open` handshake, then commands numbered
 * by txnr, each settled by the server's `rsp` for that txnr. The session
 * ends ("breaks") at the first of: the socket closing or failing, the
 * server's `serverclose` hint, a malformed frame, a response to a txnr it
 * never sent, or no response for ACK_TIMEOUT_MS while commands wait (a
 * stuck SIEM). Every command still waiting is then failed: it is in doubt
 * (the server may or may not have it) and its sender sends it again in the
 * next session. Nothing here retries or reconnects (sinks/relp-channel.ts).
 */
import { Socket } from 'node:net';
import { Timer, Timers } from '../common/timers';
import { acceptedOffers, nextTxnr, openOffers, parseResponse, RelpFrame, RelpFrameReader, RelpProtocolError, RelpResponse, relpFrame } from './relp-frames';

/** A command the SIEM does not answer in this time breaks the session (its window may be full, it may hang). */
export const ACK_TIMEOUT_MS = 30_000;
/** How long a server gets to answer `close` and hang up before the socket is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/** What the server answered to one command. */
export type RelpAnswer = RelpResponse;

type Settle = (answer: RelpAnswer | Error) => void;

export class RelpSession {
  private readonly reader = new RelpFrameReader();
  private txnr = 1;
  private readonly waiting = new Map<number, Settle>();
  private ackTimer: Timer | null = null;
  private brokenBy: Error | null = null;
  private readonly onBreak: Array<(err: Error) => void> = [];

  constructor(private readonly socket: Socket, private readonly timers: Timers) {
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (err) => this.break(err));
    socket.on('end', () => this.break(new Error('the SIEM closed the RELP connection')));
    socket.on('close', () => this.break(new Error('the RELP connection closed')));
  }

  /** Why the session ended (null while it is usable). */
  get broken(): Error | null {
    return this.brokenBy;
  }

  /** Commands sent and not yet answered. */
  get unanswered(): number {
    return this.waiting.size;
  }

  /** Told once, when the session breaks. */
  whenBroken(listener: (err: Error) => void): void {
    if (this.brokenBy !== null) listener(this.brokenBy);
    else this.onBreak.push(listener);
  }

  /** The `open` handshake: the server must accept protocol version 0 and the `syslog` command. */
  async open(software: string): Promise<void> {
    const answer = await this.command('open', openOffers(software));
    if (answer.status !== 200) throw this.break(new RelpProtocolError(`the SIEM refused the RELP session: ${answer.status} ${answer.text}`));
    const offers = acceptedOffers(answer.rest);
    if (!offers.has('relp_version') || !(offers.get('commands') ?? []).includes('syslog')) {
      throw this.break(new RelpProtocolError('the SIEM does not offer RELP version 0 with the syslog command'));
    }
  }

  /** Sends a command; resolves with the server's answer, rejects if the session breaks first. */
  command(command: string, data: Buffer | string): Promise<RelpAnswer> {
    return new Promise((resolve, reject) => {
      if (this.brokenBy !== null) {
        reject(this.brokenBy);
        return;
      }
      const txnr = this.txnr;
      this.txnr = nextTxnr(txnr);
      this.waiting.set(txnr, (answer) => (answer instanceof Error ? reject(answer) : resolve(answer)));
      if (this.ackTimer === null) this.ackTimer = this.timers.after(ACK_TIMEOUT_MS, () => this.break(new Error(`the SIEM answered no RELP command for ${ACK_TIMEOUT_MS} ms`)));
      this.socket.write(relpFrame(txnr, command, data));
    });
  }

  /**
   * Ends the session: politely when nothing waits (a `close` command; the
   * session is cut when the server answers it, or after CLOSE_GRACE_MS),
   * else at once. Never waits.
   */
  end(): void {
    if (this.brokenBy !== null) return;
    if (this.waiting.size > 0) {
      this.break(new Error('sink closed'));
      return;
    }
    const grace = this.timers.after(CLOSE_GRACE_MS, () => this.break(new Error('sink closed')));
    const done = (): void => {
      grace.cancel();
      this.break(new Error('sink closed'));
    };
    this.command('close', '').then(done, done);
  }

  private received(chunk: Buffer): void {
    let frames: RelpFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.break(err as Error);
      return;
    }
    for (const frame of frames) {
      if (this.brokenBy !== null) return;
      if (frame.txnr === 0) {
        // A hint: `serverclose` says the server is going; what it did not answer is in doubt.
        if (frame.command === 'serverclose') this.break(new Error('the SIEM closed the RELP session (serverclose)'));
        continue;
      }
      const settle = this.waiting.get(frame.txnr);
      if (frame.command !== 'rsp' || settle === undefined) {
        this.break(new RelpProtocolError(`an unexpected RELP frame: ${frame.command} for txnr ${frame.txnr}`));
        return;
      }
      let answer: RelpAnswer;
      try {
        answer = parseResponse(frame.data);
      } catch (err) {
        this.break(err as Error);
        return;
      }
      this.waiting.delete(frame.txnr);
      // An answer is progress: the deadline starts again for what still waits.
      if (this.waiting.size === 0) {
        this.ackTimer?.cancel();
        this.ackTimer = null;
      } else {
        this.ackTimer?.restart();
      }
      settle(answer);
    }
  }

  /** Ends the session for good (first reason wins) and fails every command still waiting; returns the reason. */
  private break(err: Error): Error {
    if (this.brokenBy !== null) return this.brokenBy;
    this.brokenBy = err;
    this.ackTimer?.cancel();
    this.ackTimer = null;
    this.socket.destroy();
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const settle of waiting) settle(err);
    for (const listener of this.onBreak.splice(0)) listener(err);
    return err;
  }
}
