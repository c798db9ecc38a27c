/**
 * What this connection's own transactions changed, told to the caches the
 * moment each one ends, so that a commit drops only the cache entries of the
 * rows it touched instead of everything (a rollover sweep commits a batch
 * every few milliseconds; dropping every cached row each time made every Get
 * re-read and re-authenticate its rows for the whole sweep).
 *
 * Two facts per transaction, both taken inside it, under its write lock:
 * - The keychain change counter (migration 8) before its first statement and
 *   after its last. No other process can write between the two, so
 *   [before, after] is exactly this transaction's movement; a movement the
 *   chain of own transactions does not explain is someone else's (a local
 *   CLI, another server), and the caches drop everything for it
 *   (domain/keychain-changes.ts).
 * - The rows it touched, reported by TEMP triggers (seen by this connection
 *   only) calling back into this process: triggers rather than code in each
 *   writer, so a write path nobody remembered still reports. Key, instance
 *   and alias rows report their key id; a new or renamed key name, an alias
 *   and the keychain's own key rows report `names` / `everything`; client and
 *   grant rows report `directory`.
 *
 * A transaction that is undone still reports what it touched: a lookup
 * inside it may have cached a row it wrote and that no longer exists.
 */
import Database from 'better-sqlite3';

/** The rows one own transaction touched (committed or undone). */
export interface TouchedRows {
  /** Keys whose key, instance or alias rows were written. */
  readonly keyIds: ReadonlySet<string>;
  /** A key name or alias appeared, moved or went: name lookups may now resolve differently. */
  readonly names: boolean;
  /** Client or grant rows were written. */
  readonly directory: boolean;
  /** Rows every cached row depends on (the keychain's keys, its metadata): drop everything. */
  readonly everything: boolean;
}

/** One own transaction that ended. */
export type OwnChange =
  | (TouchedRows & { readonly committed: true; readonly counterBefore: number; readonly counterAfter: number })
  | (TouchedRows & { readonly committed: false });

/** The own-change feed of a store connection. */
export interface OwnChangeFeed {
  /** The keychain change counter now (one small query). */
  counter(): number;
  /** `listener` hears every own transaction that ends, right after it ends. */
  subscribe(listener: (change: OwnChange) => void): void;
}

const TOUCHED_FUNCTION = 'strongroom_touched';

/** The temporary triggers: (table, event, what it reports). Temporary: never in the file, never seen by another connection. */
function triggerSql(): string {
  const report = (kind: string, id: string): string => `SELECT ${TOUCHED_FUNCTION}('${kind}', ${id});`;
  const trigger = (name: string, event: string, table: string, body: string, when = ''): string =>
    `CREATE TEMP TRIGGER IF NOT EXISTS own_change_${name} AFTER ${event} ON main.${table}${when} BEGIN ${body} END;`;
  return [
    trigger('keys_insert', 'INSERT', 'keys', report('key', 'NEW.id') + report('names', "''")),
    trigger('keys_update', 'UPDATE', 'keys', report('key', 'OLD.id') + report('key', 'NEW.id')),
    trigger('keys_rename', 'UPDATE', 'keys', report('names', "''"), ' WHEN OLD.namespace IS NOT NEW.namespace OR OLD.name IS NOT NEW.name'),
    trigger('keys_delete', 'DELETE', 'keys', report('key', 'OLD.id') + report('names', "''")),
    trigger('instances_insert', 'INSERT', 'key_instances', report('key', 'NEW.key_id')),
    trigger('instances_update', 'UPDATE', 'key_instances', report('key', 'OLD.key_id') + report('key', 'NEW.key_id')),
    trigger('instances_delete', 'DELETE', 'key_instances', report('key', 'OLD.key_id')),
    trigger('aliases_insert', 'INSERT', 'aliases', report('key', 'NEW.key_id') + report('names', "''")),
    trigger('aliases_update', 'UPDATE', 'aliases', report('key', 'OLD.key_id') + report('key', 'NEW.key_id') + report('names', "''")),
    trigger('aliases_delete', 'DELETE', 'aliases', report('key', 'OLD.key_id') + report('names', "''")),
    ...['clients', 'grants'].flatMap((table) =>
      ['INSERT', 'UPDATE', 'DELETE'].map((event) => trigger(`${table}_${event.toLowerCase()}`, event, table, report('directory', "''"))),
    ),
    ...['keychain_keys', 'keychain_meta'].flatMap((table) =>
      ['INSERT', 'UPDATE', 'DELETE'].map((event) => trigger(`${table}_${event.toLowerCase()}`, event, table, report('everything', "''"))),
    ),
  ].join('\n');
}

export class OwnChangeRecorder implements OwnChangeFeed {
  private keyIds = new Set<string>();
  private names = false;
  private directory = false;
  private everything = false;
  private readonly listeners: Array<(change: OwnChange) => void> = [];
  private readonly readCounter: Database.Statement;

  constructor(db: Database.Database) {
    this.readCounter = db.prepare('SELECT counter FROM keychain_changes WHERE id = 1').pluck();
    // Called by the triggers while a statement runs: it only records, never touches the database. directOnly: a
    // trigger or view planted in the untrusted file cannot call it (TEMP triggers still can).
    db.function(TOUCHED_FUNCTION, { deterministic: false, varargs: false, directOnly: true }, (kind: unknown, id: unknown) => {
      if (kind === 'key' && typeof id === 'string') this.keyIds.add(id);
      else if (kind === 'names') this.names = true;
      else if (kind === 'directory') this.directory = true;
      else this.everything = true;
      return null;
    });
    db.exec(triggerSql());
  }

  counter(): number {
    return this.readCounter.get() as number;
  }

  subscribe(listener: (change: OwnChange) => void): void {
    this.listeners.push(listener);
  }

  /** The end of an outermost transaction: `counters` as read inside it, or null if it was undone. */
  ended(counters: { readonly before: number; readonly after: number } | null): void {
    const touched: TouchedRows = { keyIds: this.keyIds, names: this.names, directory: this.directory, everything: this.everything };
    this.keyIds = new Set();
    this.names = this.directory = this.everything = false;
    const change: OwnChange = counters === null
      ? { ...touched, committed: false }
      : { ...touched, committed: true, counterBefore: counters.before, counterAfter: counters.after };
    // Nothing to tell: an undone transaction that touched nothing, a commit that moved nothing (an audit append).
    if (!hasAny(touched) && (counters === null || counters.before === counters.after)) return;
    for (const listener of this.listeners) listener(change);
  }
}

function hasAny(touched: TouchedRows): boolean {
  return touched.keyIds.size > 0 || touched.names || touched.directory || touched.everything;
}
