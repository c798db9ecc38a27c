/**
 * The invocation-count capability (storage/invocation-store.ts) on the
 * keychain's shared connection (SQLite, or PostgreSQL through the
 * statement facade: storage/capability-connection.ts): one row per instance in gcm_invocations
 * (migration 13), read and replaced under one IMMEDIATE transaction, so a
 * raise is atomic across processes and durable (synchronous=FULL) when it
 * returns. Not counted as a keychain change (no cache depends on it), but
 * its row is authenticated, so the trust hooks run around it.
 */
import { assertRaise, InvocationMark, InvocationStore } from './invocation-store';
import { CapabilityConnection, Statement } from './capability-connection';

export class SqliteInvocations implements InvocationStore {
  private readonly selectMark: Statement;
  private readonly putMark: Statement;

  constructor(private readonly conn: CapabilityConnection) {
    this.selectMark = conn.db.prepare('SELECT reserved, row_mac AS rowMac FROM gcm_invocations WHERE instance_id = ?');
    this.putMark = conn.db.prepare(
      'INSERT INTO gcm_invocations (instance_id, reserved, row_mac) VALUES (?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET reserved = excluded.reserved, row_mac = excluded.row_mac',
    );
  }

  readMark(instanceId: string): InvocationMark | null {
    return this.conn.read('readMark', () => (this.selectMark.get(instanceId) as InvocationMark | undefined) ?? null);
  }

  raiseMark(instanceId: string, next: (current: InvocationMark | null) => InvocationMark): number {
    return this.conn.write(
      'raiseMark',
      () => {
        const current = (this.selectMark.get(instanceId) as InvocationMark | undefined) ?? null;
        const raised = next(current);
        assertRaise(current, raised);
        this.putMark.run(instanceId, raised.reserved, raised.rowMac ?? Buffer.alloc(0));
        return raised.reserved;
      },
      false,
      true,
    );
  }
}
