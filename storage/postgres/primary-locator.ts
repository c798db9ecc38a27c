/**
 * How the bridge's worker gets a session on the writable primary: through
 * Patroni (primary-finder.ts: REST `GET /primary`, then `SHOW
 * transaction_read_only`) for a cluster, or straight to one PostgreSQL for a
 * single server (tests, a development box), where the same read-only check
 * still runs. Both are bounded: the finder by its deadline, a direct connect
 * by the connect timeout. Sessions use the bridge's type parsers and no pg
 * query timeout of their own: the bridge core bounds every statement itself
 * and destroys the connection when a bound passes.
 */
import { StorageError } from '../../common/errors';
import { systemTimers, Timers } from '../../common/timers';
import type { BridgeSettings } from './bridge-protocol';
import { pgConnector, PgSession } from './pg-session';
import { BRIDGE_TYPES } from './pg-types';
import { ClusterNodeAddress, PrimaryFinder } from './primary-finder';

/** A writable session, and the name of the node it is on. */
export type LocatePrimary = () => Promise<{ session: PgSession; node: string }>;

export function makePrimaryLocator(settings: BridgeSettings, timers: Timers = systemTimers): LocatePrimary {
  const find = findWritable(settings, timers);
  // Server-side bounds too: a statement the bridge gave up on stops running, and a session whose
  // client went quiet mid-transaction ends, releasing the writer lock (bridge-protocol.ts).
  const bounds = `SET statement_timeout = ${whole(settings.statementTimeoutMs + settings.writerLockTimeoutMs)}; ` +
    `SET idle_in_transaction_session_timeout = ${whole(settings.idleInTransactionTimeoutMs)}`;
  return async () => {
    const found = await find();
    try {
      await found.session.query(bounds);
    } catch (err) {
      await found.session.end();
      throw err;
    }
    return found;
  };
}

function whole(ms: number): number {
  return Math.max(1, Math.floor(ms));
}

function findWritable(settings: BridgeSettings, timers: Timers): LocatePrimary {
  const connect = pgConnector(
    settings.credentials,
    { connectTimeoutMs: settings.connectTimeoutMs, queryTimeoutMs: 0, applicationName: settings.applicationName, types: BRIDGE_TYPES },
    timers,
  );
  const target = settings.target;
  if (target.kind === 'patroni') {
    const finder = new PrimaryFinder<PgSession>({ nodes: target.nodes, deadlineMs: settings.findPrimaryTimeoutMs }, { connect, timers });
    return async () => {
      const found = await finder.find();
      return { session: found.session, node: found.node.name };
    };
  }
  const node: ClusterNodeAddress = { name: `${target.host}:${target.port}`, rest: { host: target.host, port: 0 }, postgres: { host: target.host, port: target.port } };
  return async () => {
    const session = await connect(node);
    let readOnly: unknown;
    try {
      readOnly = (await session.query('SHOW transaction_read_only')).rows[0]?.transaction_read_only;
    } catch (err) {
      await session.end();
      throw err;
    }
    if (readOnly !== 'off') {
      await session.end();
      throw new StorageError('CLUSTER_NOT_PRIMARY', `PostgreSQL at ${node.name} is read-only (transaction_read_only = ${String(readOnly)}): it is a standby, not the primary`, {
        details: { node: node.name },
      });
    }
    return { session, node: node.name };
  };
}
