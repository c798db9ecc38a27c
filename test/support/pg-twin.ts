/**
 * The same SQL on two engines, for the differential schema tests: a SQLite
 * keychain file migrated by storage/migrations.ts (better-sqlite3) and a
 * PostgreSQL database migrated by storage/postgres/pg-migrate.ts (through
 * the bridge's better-sqlite3-shaped facade). Statements are written once,
 * with `?` or `@name` parameters, and run on both; a refusal is reduced to
 * the kind of constraint that refused, so the two can be compared.
 */
import Database from 'better-sqlite3';
import { PgDatabase } from '../../storage/postgres/statement-facade';

export type Refusal = 'unique' | 'foreign-key' | 'check' | 'not-null' | 'trigger' | 'none' | `other: ${string}`;

export interface Engine {
  readonly name: 'sqlite' | 'postgres';
  run(sql: string, ...params: unknown[]): number;
  all(sql: string, ...params: unknown[]): unknown[];
  /** fn in one write transaction (committed; rolled back if it throws). */
  tx<T>(fn: () => T): T;
  /** What refused fn's transaction ('none' if it committed). */
  refusal(fn: () => void): Refusal;
}

const SQLITE_KINDS: Record<string, Refusal> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign-key',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'not-null',
  SQLITE_CONSTRAINT_TRIGGER: 'trigger',
};

const PG_KINDS: Record<string, Refusal> = { '23505': 'unique', '23503': 'foreign-key', '23514': 'check', '23502': 'not-null', '23000': 'trigger' };

export function sqliteEngine(db: Database.Database): Engine {
  return {
    name: 'sqlite',
    run: (sql, ...params) => db.prepare(sql).run(...params).changes,
    all: (sql, ...params) => db.prepare(sql).all(...params),
    tx: (fn) => db.transaction(fn).immediate(),
    refusal(fn) {
      try {
        db.transaction(fn).immediate();
      } catch (err) {
        const code = String((err as { code?: unknown }).code);
        return SQLITE_KINDS[code] ?? `other: ${code}`;
      }
      return 'none';
    },
  };
}

export function postgresEngine(db: PgDatabase): Engine {
  return {
    name: 'postgres',
    run: (sql, ...params) => db.prepare(sql).run(...params).changes,
    all: (sql, ...params) => db.prepare(sql).all(...params),
    tx: (fn) => db.transaction(fn).immediate(),
    refusal(fn) {
      try {
        db.transaction(fn).immediate();
      } catch (err) {
        const e = err as { code?: unknown; details?: { pgCode?: unknown } };
        const pgCode = String(e.details?.pgCode);
        return PG_KINDS[pgCode] ?? `other: ${String(e.code)} ${pgCode}`;
      }
      return 'none';
    },
  };
}
