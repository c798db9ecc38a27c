/**
 * The due-work capability (storage/key-schedule-store.ts) on the keychain's
 * shared connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts): bounded, indexed scans ordered by due date then id.
 */
import { KeyScheduleStore } from './key-schedule-store';
import { DueActivation, DueDestruction, DueKey, DueProcessStop } from './records';
import { CapabilityConnection, Statements } from './capability-connection';

export class SqliteKeySchedule implements KeyScheduleStore {
  private readonly stmt: Statements;

  constructor(private readonly conn: CapabilityConnection) {
    this.stmt = conn.stmt;
  }

  listRetentionExpired(beforeIso: string, limit: number): string[] {
    return this.conn.read('listRetentionExpired', () => (this.stmt.listRetentionExpired.all(beforeIso, limit) as Array<{ id: string }>).map((r) => r.id));
  }

  listDueProcessStops(atIso: string, limit: number): DueProcessStop[] {
    return this.conn.read('listDueProcessStops', () => this.stmt.listDueProcessStops.all(atIso, limit) as DueProcessStop[]);
  }

  listDueActivations(atIso: string, limit: number): DueActivation[] {
    return this.conn.read('listDueActivations', () => this.stmt.listDueActivations.all(atIso, limit) as DueActivation[]);
  }

  listDueDestructions(atIso: string, limit: number): DueDestruction[] {
    return this.conn.read('listDueDestructions', () => this.stmt.listDueDestructions.all(atIso, limit) as DueDestruction[]);
  }

  listDueKeys(atIso: string, limit: number): DueKey[] {
    return this.conn.read('listDueKeys', () => this.stmt.listDue.all(atIso, limit) as DueKey[]);
  }
}
