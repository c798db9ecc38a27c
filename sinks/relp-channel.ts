/**
 * The RELP channel (`transport=relp`, `relp-tls`): syslog messages to a
 * SIEM that acknowledges each one (rsyslog's imrelp, and the SIEMs that
 * speak RELP). Unlike syslog over TCP, where bytes in the kernel's buffers
 * when the SIEM dies are lost after the write callback said "sent", an
 * event counts as delivered only when the server's `rsp 200` for its txnr
 * has come back:
 *
 * - send() writes the batch as `syslog` commands, at most RELP_WINDOW
 *   unanswered at a time, and resolves once every one is answered 200;
 * - when the session breaks (the SIEM killed, a `serverclose`, a refusal,
 *   no answer in time), send() rejects with a RelpDeliveryError that says
 *   how many events at the head of the batch were acknowledged: the queue
 *   moves the cursor past those only, and the rest (the events in doubt:
 *   sent, never acknowledged) go again after a reconnect, in a new session
 *   with new txnrs. So nothing acknowledged is sent twice and nothing
 *   unacknowledged is skipped: the SIEM may see an in-doubt event twice
 *   (same seq and hash), never miss one. inDoubt counts them.
 *
 * TLS (`relp-tls`) is TLS from the first byte, as librelp does it (not
 * STARTTLS), with the SIEM's certificate checked like syslog-tls's.
 * Connecting and the handshake are bounded; close() never waits.
 */
import { ConnectionOptions } from 'node:tls';
import { Timers } from '../common/timers';
import { Channel, Chunk, connectStream, CONNECT_TIMEOUT_MS } from './channels';
import { RelpSession } from './relp-session';

/** Most events sent and not yet acknowledged (librelp's default window). */
export const RELP_WINDOW = 128;

/** A batch that did not all get through: `delivered` events at its head were acknowledged. */
export class RelpDeliveryError extends Error {
  readonly code: string | undefined;
  constructor(readonly delivered: number, readonly reason: Error) {
    super(reason.message);
    this.code = (reason as { code?: string }).code;
  }
}

export interface RelpTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: ConnectionOptions | null;
  /** Named in the `open` offers (relp_software). */
  readonly software: string;
}

export class RelpChannel implements Channel {
  private session: RelpSession | null = null;
  private closed = false;
  private inDoubtCount = 0;

  constructor(private readonly target: RelpTarget, private readonly timers: Timers) {}

  get connected(): boolean {
    return this.session !== null;
  }

  /** Events sent in the current session and not yet acknowledged (at most RELP_WINDOW). */
  get unacknowledged(): number {
    return this.session?.unanswered ?? 0;
  }

  /** Events sent in a session that broke before their acknowledgement (each was sent again). */
  get inDoubt(): number {
    return this.inDoubtCount;
  }

  async send(chunks: readonly Chunk[]): Promise<void> {
    if (this.closed) throw new RelpDeliveryError(0, new Error('sink closed'));
    let session: RelpSession;
    try {
      session = this.session ?? (await this.open());
    } catch (err) {
      throw new RelpDeliveryError(0, err as Error);
    }
    const acked: boolean[] = chunks.map(() => false);
    let prefix = 0;
    let sent = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        let failed = false;
        const fail = (err: Error): void => {
          if (failed) return;
          failed = true;
          reject(err);
        };
        const pump = (): void => {
          while (!failed && sent < chunks.length && session.unanswered < RELP_WINDOW) {
            const index = sent++;
            const chunk = chunks[index];
            session.command('syslog', typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk).then(
              (answer) => {
                if (answer.status !== 200) return fail(new Error(`the SIEM refused an event: RELP ${answer.status} ${answer.text}`));
                acked[index] = true;
                while (prefix < chunks.length && acked[prefix]) prefix++;
                if (prefix === chunks.length) resolve();
                else pump();
              },
              fail,
            );
          }
        };
        pump();
      });
    } catch (err) {
      // A refusal leaves the session in an unknown state for what follows: start a new one.
      this.drop(session);
      this.inDoubtCount += sent - acked.filter(Boolean).length;
      throw new RelpDeliveryError(prefix, err as Error);
    }
  }

  private async open(): Promise<RelpSession> {
    const socket = await connectStream(this.target, this.timers);
    const session = new RelpSession(socket, this.timers);
    const deadline = this.timers.after(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error(`no RELP session with ${this.target.host}:${this.target.port} within ${CONNECT_TIMEOUT_MS} ms`)));
    try {
      await session.open(this.target.software);
    } finally {
      deadline.cancel();
    }
    if (this.closed) {
      session.end();
      throw new Error('sink closed');
    }
    session.whenBroken(() => {
      if (this.session === session) this.session = null;
    });
    this.session = session;
    return session;
  }


  private drop(session: RelpSession): void {
    if (this.session === session) this.session = null;
    session.end();
  }

  close(): void {
    this.closed = true;
    const session = this.session;
    this.session = null;
    session?.end();
  }
}
