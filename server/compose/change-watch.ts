/**
 * What tells the server's caches (resolved rows, opened material, the
 * policy index, confirmed identities) that the keychain changed. Its own
 * writes are told at once, by the rows they touched (domain/keychain-changes.ts:
 * a sweep batch drops only its keys' entries); another process's (a
 * local-mode CLI granting or revoking) move the database's change counter,
 * which is polled every WATCH_INTERVAL_MS instead of per request: checking
 * it per request cost a quarter of the server's time in the socket
 * benchmark. A movement of the counter that this process's own commits do
 * not explain drops everything.
 *
 * A poll that cannot read the counter (the store is out: a PostgreSQL
 * failover) does not throw out of the watch's timer, which would end the
 * process: the caches stay untrusted until a poll can (keychain-changes.ts),
 * requests meanwhile get the store's own error, and the outage and its end
 * are logged once each.
 */
import { Clock } from '../../common/clock';
import { Logger } from '../../common/logger';
import { OutageLog } from '../../common/outage-log';
import { KeychainChanges } from '../../domain/keychain-changes';

/** How often another process's changes are looked for. */
export const WATCH_INTERVAL_MS = 250;

export class ChangeWatch {
  private directorySeen: string;
  private readonly outage: OutageLog;

  /** The first poll is made here and may throw: a server whose store cannot be read at start does not start. */
  constructor(private readonly changes: KeychainChanges, log: Logger, clock: Clock) {
    this.outage = new OutageLog(log, clock, 'the change watch', 'no cached key, client or grant is trusted meanwhile');
    changes.pollOnly();
    changes.poll();
    this.directorySeen = changes.directoryStamp();
  }

  /** Cheap: moves when client or grant rows may have changed (this process's writes at once, others' as of the last poll). */
  readonly stamp = (): string => this.changes.directoryStamp();

  /**
   * True when another process changed the keychain, or clients or grants
   * changed, since the last poll: connections are rechecked. False while the
   * store cannot be read (rechecking would only fail too); the first poll
   * that reads it again answers true.
   */
  poll(): boolean {
    let foreign: boolean;
    try {
      foreign = this.changes.poll();
    } catch (err) {
      this.outage.failed(err);
      return false;
    }
    this.outage.succeeded();
    const directory = this.changes.directoryStamp();
    const moved = directory !== this.directorySeen;
    this.directorySeen = directory;
    return foreign || moved;
  }
}
