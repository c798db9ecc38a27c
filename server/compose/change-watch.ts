/**
 * What tells the server's caches (resolved names, the policy index) that the
 * keychain changed. Its own writes move `ownCommitCount` at once; another
 * process's (a local-mode CLI granting or revoking) move the database's
 * change stamp, which is polled every WATCH_INTERVAL_MS instead of per
 * request: checking it per request cost a quarter of the server's time in
 * the socket benchmark.
 */
import { KeychainStore } from '../../storage/keychain-store';

/** How often another process's changes are looked for. */
export const WATCH_INTERVAL_MS = 250;

export class ChangeWatch {
  private external: string;

  constructor(private readonly store: Pick<KeychainStore, 'changeStamp' | 'ownCommitCount'>) {
    this.external = store.changeStamp();
  }

  /** Cheap: this process's writes at once, others' as of the last poll. */
  readonly stamp = (): string => `${this.external}|${this.store.ownCommitCount()}`;

  /** True when another process changed the keychain since the last poll. */
  poll(): boolean {
    const now = this.store.changeStamp();
    if (now === this.external) return false;
    this.external = now;
    return true;
  }
}
