/**
 * What the keychain's capability files (storage/sqlite-*.ts: keys, schedule,
 * naming, root, directory, audit, approvals, trust journal, invocations)
 * need of the connection they share, and nothing more, so that one
 * implementation of each capability runs on both backends: SQLite
 * (storage/sqlite-connection.ts, better-sqlite3) and PostgreSQL
 * (storage/postgres/pg-connection.ts, the better-sqlite3-shaped facade over
 * the synchronous bridge). The shapes are better-sqlite3's, narrowed to the
 * calls the capability files make.
 */
import { SQL } from './sqlite-rows';
import { TrustWriteHooks } from './trust-journal-store';

/** A prepared statement, as better-sqlite3 shapes it (positional values, or one object of named ones). */
export interface Statement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { readonly changes: number };
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Later get/all/iterate answer each row's first column instead of the row. */
  pluck(on?: boolean): this;
  /**
   * run() for a write whose result nobody reads, where the backend can send
   * it later inside the transaction at no round trip of its own (PostgreSQL:
   * with the next exchange, storage/postgres/statement-facade.ts). Absent on SQLite.
   */
  runDeferred?(...params: unknown[]): void;
}

/** A write whose result nobody reads: deferred where the backend offers it (a failure still fails the transaction), run now otherwise. */
export function runWithoutAnswer(statement: Statement, ...params: unknown[]): void {
  if (statement.runDeferred !== undefined) statement.runDeferred(...params);
  else statement.run(...params);
}

/** Prepares statements (better-sqlite3's Database, or the PostgreSQL facade's PgDatabase). */
export interface StatementDatabase {
  prepare(sql: string): Statement;
}

/** Every statement of storage/sqlite-rows.ts, prepared once at open. */
export type Statements = { readonly [K in keyof typeof SQL]: Statement };

export interface CapabilityConnection {
  readonly db: StatementDatabase;
  readonly stmt: Statements;
  /** Runs a read, mapping the backend's errors to StorageError codes. */
  read<T>(operation: string, fn: () => T): T;
  /**
   * Runs a write in a transaction (a savepoint when nested), mapping errors.
   * `isKeychainChange` false: no cache depends on it (audit appends,
   * invocation marks); `runsTrustHooks`: the trust hooks run around it.
   */
  write<T>(operation: string, fn: () => T, isKeychainChange?: boolean, runsTrustHooks?: boolean): T;
  /** The current write dropped sealed material (the backend erases it after the commit, or refuses). */
  scrubAfterCommit(): void;
  /** Installs (or with null removes) the trust hooks every keychain write runs. */
  setWriteHooks(hooks: TrustWriteHooks | null): void;
}
