/**
 * Opens node-postgres sessions to one node of the cluster, for the primary
 * finder (storage/postgres/primary-finder.ts). Every session is bounded: a
 * connect timeout (a node that went away mid-handshake), a query timeout on
 * the client side (a commit that waits for a synchronous standby that is
 * gone waits as long as Patroni takes to name another) and TCP keep-alive.
 * pg.Client emits 'error' when its server dies while the session is idle;
 * unheard, that event would end the process, so each session listens for it
 * and remembers that the session is broken. Closing is bounded too: `end()`
 * of a session whose server vanished may wait for a goodbye that never
 * comes, so after `endTimeoutMs` the socket is destroyed.
 */
import { Client, CustomTypesConfig } from 'pg';
import { systemTimers, Timers } from '../../common/timers';
import type { ClusterNodeAddress } from './primary-finder';

export interface PgCredentials {
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface PgSessionSettings {
  /** Bound on TCP connect plus PostgreSQL's startup handshake. */
  readonly connectTimeoutMs: number;
  /** Client-side bound on one query (0 turns it off). */
  readonly queryTimeoutMs: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName: string;
  /** Bound on a polite close; then the socket is destroyed. */
  readonly endTimeoutMs: number;
  /** Type parsers of this session only (storage/postgres/pg-types.ts); pg's defaults when absent. */
  readonly types?: CustomTypesConfig;
}

export const DEFAULT_PG_SESSION_SETTINGS: PgSessionSettings = {
  connectTimeoutMs: 3_000,
  queryTimeoutMs: 15_000,
  applicationName: 'strongroom',
  endTimeoutMs: 2_000,
};

/** A pg.Client that knows whether its connection has failed since it was opened. */
export interface PgSession {
  readonly client: Client;
  /** Set once the server side went away (the client's 'error' or 'end' event). */
  readonly broken: () => boolean;
  query(sql: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>>; rowCount: number | null }>;
  end(): Promise<void>;
}

/** A connect function for PrimaryFinder, bound to credentials and settings. */
export function pgConnector(credentials: PgCredentials, settings: Partial<PgSessionSettings> = {}, timers: Timers = systemTimers): (node: ClusterNodeAddress) => Promise<PgSession> {
  const s = { ...DEFAULT_PG_SESSION_SETTINGS, ...settings };
  return async (node) => {
    const client = new Client({
      host: node.postgres.host,
      port: node.postgres.port,
      user: credentials.user,
      password: credentials.password,
      database: credentials.database,
      connectionTimeoutMillis: s.connectTimeoutMs,
      query_timeout: s.queryTimeoutMs > 0 ? s.queryTimeoutMs : undefined,
      keepAlive: true,
      application_name: s.applicationName,
      ...(s.types === undefined ? {} : { types: s.types }),
    });
    let broken = false;
    client.on('error', () => {
      broken = true;
    });
    client.on('end', () => {
      broken = true;
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return {
      client,
      broken: () => broken,
      query: async (sql, values) => {
        const result = await client.query(sql, values);
        return { rows: result.rows as Array<Record<string, unknown>>, rowCount: result.rowCount };
      },
      end: () => endWithin(client, s.endTimeoutMs, timers),
    };
  };
}

/** client.end(), or the socket destroyed if the server does not say goodbye in time. */
function endWithin(client: Client, ms: number, timers: Timers): Promise<void> {
  return new Promise((resolve) => {
    const timer = timers.after(ms, () => {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      resolve();
    });
    client.end().then(
      () => {
        timer.cancel();
        resolve();
      },
      () => {
        timer.cancel();
        resolve();
      },
    );
  });
}
