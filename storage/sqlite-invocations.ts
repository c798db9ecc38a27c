/**
 * The invocation-count capability (storage/invocation-store.ts) on the
 * keychain's SQLite connection: one row per instance in gcm_invocations
 * (migration 12), raised with an UPSERT … RETURNING in one IMMEDIATE
 * transaction, so the increment is atomic across processes and durable
 * (synchronous=FULL) when it returns. Not counted as a keychain change.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../common/errors';
import { InvocationStore } from './invocation-store';
import { SqliteConnection } from './sqlite-connection';

export class SqliteInvocations implements InvocationStore {
  private readonly selectMark: Database.Statement;
  private readonly raiseMark: Database.Statement;

  constructor(private readonly conn: SqliteConnection) {
    this.selectMark = conn.db.prepare('SELECT reserved FROM gcm_invocations WHERE instance_id = ?').pluck();
    this.raiseMark = conn.db
      .prepare('INSERT INTO gcm_invocations (instance_id, reserved) VALUES (?, ?) ON CONFLICT (instance_id) DO UPDATE SET reserved = reserved + excluded.reserved RETURNING reserved')
      .pluck();
  }

  invocationsReserved(instanceId: string): number {
    return this.conn.read('invocationsReserved', () => (this.selectMark.get(instanceId) as number | undefined) ?? 0);
  }

  reserveInvocations(instanceId: string, count: number): number {
    if (!(Number.isSafeInteger(count) && count >= 1)) throw new StorageError('STORAGE_ERROR', 'invocation reservation: count must be a positive integer');
    return this.conn.write('reserveInvocations', () => this.raiseMark.get(instanceId, count) as number, false);
  }
}
