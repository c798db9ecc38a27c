/**
 * Writers for the cluster failover test (test/integration/cluster-failover.test.ts):
 * each inserts rows one autocommit INSERT at a time through the primary
 * finder, and counts a row as acknowledged only when its INSERT returned
 * (with synchronous_commit = on, once the synchronous standby flushed it).
 * A failed INSERT (the primary died under it, a timeout) is not
 * acknowledged: the writer drops its session, finds the primary again and
 * carries on with its next row. Bounded by a row count and a deadline.
 */
import { PrimaryFinder, PrimarySession } from '../../storage/postgres/primary-finder';
import { PgSession } from '../../storage/postgres/pg-session';

export const ROWS_TABLE = 'acked_rows';

export interface Ack {
  readonly id: string;
  readonly atMs: number;
  readonly node: string;
}

export interface WriterRecord {
  readonly writer: number;
  readonly acks: Ack[];
  /** INSERTs (or finds) that failed, with why: never counted as acknowledged. */
  readonly failures: string[];
}

export interface WriterBounds {
  readonly maxRows: number;
  readonly deadlineMs: number;
  readonly stop: () => boolean;
}

export async function createRowsTable(finder: PrimaryFinder<PgSession>): Promise<void> {
  const { session } = await finder.find();
  try {
    await session.query(`CREATE TABLE ${ROWS_TABLE} (id text PRIMARY KEY, writer int NOT NULL, node text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  } finally {
    await session.end();
  }
}

/** One writer's loop; resolves with what it did once stopped, out of rows, or past the deadline. */
export async function runWriter(writer: number, finder: PrimaryFinder<PgSession>, bounds: WriterBounds, record: WriterRecord): Promise<WriterRecord> {
  let current: PrimarySession<PgSession> | undefined;
  try {
    for (let row = 0; row < bounds.maxRows && !bounds.stop() && Date.now() < bounds.deadlineMs; row++) {
      const id = `w${writer}-r${row}`;
      try {
        current ??= await finder.find();
        await current.session.query(`INSERT INTO ${ROWS_TABLE} (id, writer, node) VALUES ($1, $2, $3)`, [id, writer, current.node.name]);
        record.acks.push({ id, atMs: Date.now(), node: current.node.name });
      } catch (err) {
        record.failures.push(`${id}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.slice(0, 300));
        const dropped = current;
        current = undefined;
        await dropped?.session.end().catch(() => undefined);
      }
    }
  } finally {
    await current?.session.end().catch(() => undefined);
  }
  return record;
}
