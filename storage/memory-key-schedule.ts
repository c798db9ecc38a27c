/**
 * The due-work capability (storage/key-schedule-store.ts) in memory: full
 * scans of the shared tables (a fake needs no index), in the order SQLite
 * returns: due date, then id.
 */
import { KeyScheduleStore } from './key-schedule-store';
import { MemoryTables } from './memory-tables';
import { DueActivation, DueDestruction, DueKey, DueProcessStop } from './records';

export class MemoryKeySchedule implements KeyScheduleStore {
  constructor(private readonly tables: MemoryTables) {}

  private get state() {
    return this.tables.current;
  }

  listRetentionExpired(beforeIso: string, limit: number): string[] {
    this.tables.assertOpen();
    const current = new Set([...this.state.keys.values()].map((k) => k.currentInstanceId));
    return [...this.state.instances.values()]
      .filter((i) => i.state === 'Deactivated' && i.deactivatedAt !== null && i.deactivatedAt <= beforeIso && i.destroyAt === null && i.sealedMaterial !== null && !current.has(i.id))
      .sort((a, b) => ((a.deactivatedAt as string) === (b.deactivatedAt as string) ? (a.id < b.id ? -1 : 1) : (a.deactivatedAt as string) < (b.deactivatedAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => i.id);
  }

  listDueProcessStops(atIso: string, limit: number): DueProcessStop[] {
    this.tables.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.state === 'Active' && i.processStopAt !== null && i.processStopAt <= atIso)
      .sort((a, b) => ((a.processStopAt as string) === (b.processStopAt as string) ? (a.id < b.id ? -1 : 1) : (a.processStopAt as string) < (b.processStopAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => ({ instanceId: i.id, processStopAt: i.processStopAt as string }));
  }

  listDueActivations(atIso: string, limit: number): DueActivation[] {
    this.tables.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.state === 'PreActive' && i.activatedAt !== null && i.activatedAt <= atIso && i.destroyAt === null)
      .sort((a, b) => ((a.activatedAt as string) === (b.activatedAt as string) ? (a.id < b.id ? -1 : 1) : (a.activatedAt as string) < (b.activatedAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => ({ instanceId: i.id, activateAt: i.activatedAt as string }));
  }

  listDueDestructions(atIso: string, limit: number): DueDestruction[] {
    this.tables.assertOpen();
    return [...this.state.instances.values()]
      .filter((i) => i.destroyAt !== null && i.destroyAt <= atIso)
      .sort((a, b) => ((a.destroyAt as string) === (b.destroyAt as string) ? (a.id < b.id ? -1 : 1) : (a.destroyAt as string) < (b.destroyAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((i) => ({ instanceId: i.id, destroyAt: i.destroyAt as string }));
  }

  listDueKeys(atIso: string, limit: number): DueKey[] {
    this.tables.assertOpen();
    return [...this.state.keys.values()]
      .filter((k) => k.nextRolloverAt !== null && k.nextRolloverAt <= atIso)
      .sort((a, b) => ((a.nextRolloverAt as string) === (b.nextRolloverAt as string) ? (a.id < b.id ? -1 : 1) : (a.nextRolloverAt as string) < (b.nextRolloverAt as string) ? -1 : 1))
      .slice(0, limit)
      .map((k) => ({ keyId: k.id, nextRolloverAt: k.nextRolloverAt as string }));
  }
}
