/**
 * How a store connection runs the trust ledger's hooks (domain/trust/trust-ledger.ts)
 * around its writes, on both backends (storage/sqlite-connection.ts,
 * storage/postgres/pg-connection.ts): around each write's own statements,
 * inside its transaction, so a hook that throws undoes the write; or, for a
 * batch (a sweep's), once around the whole batch, the writes inside leaving
 * them to it: one fold of the journal instead of one per write.
 */
import { TrustWriteHooks } from './trust-journal-store';

export class TrustHookRunner {
  private hooks: TrustWriteHooks | null = null;
  private inBatch = false;

  set(hooks: TrustWriteHooks | null): void {
    this.hooks = hooks;
  }

  get installed(): boolean {
    return this.hooks !== null;
  }

  /** `fn` with the hooks before and after it, unless a batch holds them (or none are installed). */
  aroundWrite<T>(fn: () => T): T {
    const hooks = this.hooks;
    if (this.inBatch || hooks === null) return fn();
    hooks.beforeWrite();
    const result = fn();
    hooks.afterWrite();
    return result;
  }

  /** `fn` as one batch: the hooks once around all of it (call only when installed and not nested). */
  aroundBatch<T>(fn: () => T): T {
    const hooks = this.hooks;
    if (hooks === null) return fn();
    hooks.beforeWrite();
    this.inBatch = true;
    let result: T;
    try {
      result = fn();
    } finally {
      this.inBatch = false;
    }
    hooks.afterWrite();
    return result;
  }
}
