/**
 * A better-sqlite3-shaped face on the synchronous bridge, so that the SQLite
 * capability files (storage/sqlite-*.ts: `conn.stmt.X.get(...)`,
 * `db.transaction(fn)`) can later run on PostgreSQL with translated SQL:
 * `prepare(sql)` → a statement with `.get/.all/.run/.iterate` and
 * `.pluck()`, parameters as better-sqlite3 takes them (`?` values in order,
 * or one object for `@name` / `:name`; its extra properties are ignored, a
 * missing one is an error), translated to `$n` once, at prepare
 * (translate-sql.ts).
 *
 * `transaction(fn)` returns a function, as better-sqlite3's does: calling it
 * runs fn in a write transaction (the cluster's writer lock: `.immediate`
 * is the same), `.deferred` in a read-only snapshot; called inside another
 * transaction it becomes a savepoint. If fn throws, its work is rolled back
 * and fn's error is what the caller sees (a failing rollback never hides it).
 * Differences that stay: `run()` has no lastInsertRowid (use RETURNING), and
 * PostgreSQL aborts the whole transaction at a failed statement where
 * SQLite fails that statement only (a failed statement inside fn must end
 * fn, which the capability code's check-then-write style already does).
 */
import { StorageError } from '../../common/errors';
import type { SyncBridge } from './sync-bridge';
import { translateSql, TranslatedSql } from './translate-sql';

export interface RunResult {
  readonly changes: number;
  /** PostgreSQL has no rowid: always undefined (add RETURNING id and use get()). */
  readonly lastInsertRowid: undefined;
}

export class PgStatement {
  private plucking = false;

  constructor(private readonly bridge: SyncBridge, readonly source: string, private readonly translated: TranslatedSql) {}

  /** Later get/all/iterate answer each row's first column instead of the row. */
  pluck(on = true): this {
    this.plucking = on;
    return this;
  }

  get(...args: unknown[]): unknown {
    const result = this.bridge.query(this.translated.text, this.bind(args));
    const row = result.rows[0];
    if (row === undefined) return undefined;
    return this.plucking ? row[result.fields[0]] : row;
  }

  all(...args: unknown[]): unknown[] {
    const result = this.bridge.query(this.translated.text, this.bind(args));
    return this.plucking ? result.rows.map((row) => row[result.fields[0]]) : result.rows;
  }

  /** All rows at once (the bridge has no cursors), handed out one by one. */
  iterate(...args: unknown[]): IterableIterator<unknown> {
    return this.all(...args)[Symbol.iterator]();
  }

  run(...args: unknown[]): RunResult {
    const result = this.bridge.query(this.translated.text, this.bind(args));
    return { changes: result.rowCount, lastInsertRowid: undefined };
  }

  /**
   * run() for a write whose result nobody reads: inside a transaction it
   * goes with the bridge's next exchange (SyncBridge.deferWrite: at the
   * latest the COMMIT, whose failure then undoes the transaction), costing
   * no round trip of its own; outside one it runs now.
   */
  runDeferred(...args: unknown[]): void {
    const params = this.bind(args);
    if (this.bridge.inTransaction) this.bridge.deferWrite(this.translated.text, params);
    else this.bridge.query(this.translated.text, params);
  }

  /** better-sqlite3's binding rules, made explicit. */
  private bind(args: unknown[]): unknown[] {
    const { names, positional } = this.translated;
    if (names === null) {
      if (args.length !== positional) throw new RangeError(`expected ${positional} parameter(s), got ${args.length}: ${this.source.slice(0, 80)}`);
      return args.map(bindable);
    }
    const [values] = args;
    if (args.length !== 1 || typeof values !== 'object' || values === null || Buffer.isBuffer(values)) {
      throw new RangeError(`expected one object of named parameters (${names.join(', ')})`);
    }
    const record = values as Record<string, unknown>;
    return names.map((name) => {
      if (!(name in record)) throw new RangeError(`missing named parameter "${name}"`);
      return bindable(record[name]);
    });
  }
}

/** SQLite binds no booleans and no undefined; refusing them here keeps both stores' callers alike. */
function bindable(value: unknown): unknown {
  if (value === undefined) throw new TypeError('undefined cannot be bound (better-sqlite3 refuses it too): use null');
  if (typeof value === 'boolean') throw new TypeError('booleans cannot be bound (better-sqlite3 refuses them too): bind 1 or 0');
  return value;
}

type TransactionFunction<T> = (() => T) & { deferred: () => T; immediate: () => T };

export class PgDatabase {
  private savepoints = 0;

  constructor(readonly bridge: SyncBridge) {}

  get inTransaction(): boolean {
    return this.bridge.inTransaction;
  }

  prepare(sql: string): PgStatement {
    try {
      return new PgStatement(this.bridge, sql, translateSql(sql));
    } catch (err) {
      throw new StorageError('STORAGE_ERROR', `keychain store: cannot prepare a statement for PostgreSQL: ${(err as Error).message}`, { cause: err });
    }
  }

  transaction<T>(fn: () => T): TransactionFunction<T> {
    const run = (write: boolean) => (): T => (this.bridge.inTransaction ? this.nested(fn) : this.outermost(fn, write));
    return Object.assign(run(true), { immediate: run(true), deferred: run(false) });
  }

  close(): void {
    this.bridge.close();
  }

  private outermost<T>(fn: () => T, write: boolean): T {
    this.bridge.begin(write);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      quietly(() => this.bridge.rollback());
      throw err;
    }
    this.bridge.commit();
    return result;
  }

  private nested<T>(fn: () => T): T {
    const name = `sr_sp${++this.savepoints}`;
    this.bridge.savepoint(name);
    try {
      const result = fn();
      this.bridge.release(name);
      return result;
    } catch (err) {
      quietly(() => this.bridge.rollbackTo(name));
      throw err;
    }
  }
}

function quietly(undo: () => void): void {
  try {
    undo();
  } catch {
    // The caller sees the error that made us undo; a lost connection has undone it anyway.
  }
}
