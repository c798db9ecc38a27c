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
 */
import { KeychainChanges } from '../../domain/keychain-changes';

/** How often another process's changes are looked for. */
export const WATCH_INTERVAL_MS = 250;

export class ChangeWatch {
  private directorySeen: string;

  constructor(private readonly changes: KeychainChanges) {
    changes.pollOnly();
    changes.poll();
    this.directorySeen = changes.directoryStamp();
  }

  /** Cheap: moves when client or grant rows may have changed (this process's writes at once, others' as of the last poll). */
  readonly stamp = (): string => this.changes.directoryStamp();

  /** True when another process changed the keychain, or clients or grants changed, since the last poll: connections are rechecked. */
  poll(): boolean {
    const foreign = this.changes.poll();
    const directory = this.changes.directoryStamp();
    const moved = directory !== this.directorySeen;
    this.directorySeen = directory;
    return foreign || moved;
  }
}
