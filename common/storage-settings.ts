/**
 * Where the keychain is kept (common/config.ts layers these like every
 * other setting): the SQLite file of keychain_path (storage = sqlite, the
 * default, unchanged), or a PostgreSQL database reached through the
 * synchronous bridge (storage = postgres; docs/cluster/bridge.md, docs/cluster/store.md), either
 * one server directly or the writable primary of a Patroni cluster.
 *
 * The password is never a setting's value: a config file is shown, copied
 * and recorded in the trail's settings digest, so it names a file
 * (postgres_password_file, read as the HSM PIN file is). And PostgreSQL
 * cannot erase a destroyed key's sealed bytes (docs/cluster/destroy.md), so the
 * appliance serves from it only once the operator has said, by name, that
 * they accept the weaker promise: cluster_destroy = logical.
 */
import { join } from 'node:path';
import type { SettingSpec } from './config';
import { ConfigError } from './errors';

export type StorageKind = 'sqlite' | 'postgres';

interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Where the PostgreSQL keychain is (the shape of storage/postgres/bridge-protocol.ts's BridgeTarget: common/ imports no layer above it). */
export type PostgresTarget =
  | ({ readonly kind: 'direct' } & HostPort)
  | { readonly kind: 'patroni'; readonly nodes: ReadonlyArray<{ readonly name: string; readonly rest: HostPort; readonly postgres: HostPort }> };

const STORAGE_KINDS: readonly StorageKind[] = ['sqlite', 'postgres'];

/** postgres_primary_search_ms: the default, short because the event loop waits for the search (docs/cluster/finding-the-primary.md), and its bounds. */
export const DEFAULT_PRIMARY_SEARCH_MS = 5_000;
const MIN_PRIMARY_SEARCH_MS = 1_000;
const MAX_PRIMARY_SEARCH_MS = 120_000;

/** The one value cluster_destroy takes: Destroy is logical, sealed bytes may persist in PostgreSQL's files. */
export const CLUSTER_DESTROY_CONSENT = 'logical';

export const STORAGE_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'storage',
    env: 'STRONGROOM_STORAGE',
    defaultValue: () => 'sqlite',
    meaning: 'Where the keychain is kept: sqlite (the file keychain_path) or postgres (a PostgreSQL database, one server or a Patroni cluster: the postgres_* settings; needs cluster_destroy = logical; docs/cluster.md).',
  },
  {
    key: 'postgres_server',
    env: 'STRONGROOM_POSTGRES_SERVER',
    defaultValue: () => null,
    meaning: 'With storage = postgres: host:port of one PostgreSQL server, connected to directly (no failover). Give this or postgres_patroni, not both.',
  },
  {
    key: 'postgres_patroni',
    env: 'STRONGROOM_POSTGRES_PATRONI',
    defaultValue: () => null,
    meaning: 'With storage = postgres: the nodes of a Patroni cluster, "NAME=REST_HOST:REST_PORT/PG_HOST:PG_PORT" comma list; the writable primary is found through each node\'s REST API (GET /primary). Give this or postgres_server, not both.',
  },
  {
    key: 'postgres_database',
    env: 'STRONGROOM_POSTGRES_DATABASE',
    defaultValue: () => 'strongroom',
    meaning: "With storage = postgres: the database, Strongroom's alone, with a bytewise (C) collation; the keychain schema is created in it at the first open.",
  },
  {
    key: 'postgres_user',
    env: 'STRONGROOM_POSTGRES_USER',
    defaultValue: () => 'strongroom',
    meaning: 'With storage = postgres: the PostgreSQL role the appliance logs in as.',
  },
  {
    key: 'postgres_password_file',
    env: 'STRONGROOM_POSTGRES_PASSWORD_FILE',
    defaultValue: (d) => join(d, 'postgres-password'),
    meaning: "With storage = postgres: file holding that role's password (mode 0600, owned by the user running Strongroom; its first line). Never the password itself in this file. Relative paths are relative to the data folder.",
  },
  {
    key: 'postgres_primary_search_ms',
    env: 'STRONGROOM_POSTGRES_PRIMARY_SEARCH_MS',
    defaultValue: () => String(DEFAULT_PRIMARY_SEARCH_MS),
    meaning: `With storage = postgres: how long one search for the writable primary may take (ms, ${MIN_PRIMARY_SEARCH_MS} to ${MAX_PRIMARY_SEARCH_MS}) before the call fails CLUSTER_NO_PRIMARY. The server waits meanwhile (the store is synchronous): more than Patroni's ttl + loop_wait makes a request during a failover wait and succeed instead of failing, and freezes the appliance that long (docs/cluster/finding-the-primary.md).`,
  },
  {
    key: 'cluster_destroy',
    env: 'STRONGROOM_CLUSTER_DESTROY',
    defaultValue: () => null,
    meaning: 'Required with storage = postgres, and only value logical: you accept that on PostgreSQL a Destroy is logical, the sealed bytes of a destroyed key staying in row versions, WAL, standbys and archives until overwritten (docs/cluster/destroy.md). Without it the appliance does not open a PostgreSQL keychain.',
  },
  {
    key: 'node_name',
    env: 'STRONGROOM_NODE_NAME',
    defaultValue: () => null,
    meaning: "This appliance's name among the nodes of a cluster (default: the host name up to its first dot): the holder named in the scheduler's lease and in cluster status, and the default of cluster join --node. 1 to 63 letters, digits, '.', '-' or '_'. Give each node its own.",
  },
];

/** ConfigError unless the storage settings hang together (the consent itself is checked when the store is opened). */
export function checkStorageSettings(values: Readonly<Record<string, string | null>>): void {
  const kind = values.storage ?? '';
  if (!STORAGE_KINDS.includes(kind as StorageKind)) throw new ConfigError(`storage must be sqlite or postgres, not "${kind}"`);
  const consent = values.cluster_destroy;
  if (consent !== null && consent !== undefined && consent !== CLUSTER_DESTROY_CONSENT) {
    throw new ConfigError(`cluster_destroy takes one value, ${CLUSTER_DESTROY_CONSENT} (docs/cluster/destroy.md), not "${consent}"`);
  }
  if (kind !== 'postgres') return;
  postgresTarget(values);
  for (const key of ['postgres_database', 'postgres_user', 'postgres_password_file']) {
    if (!values[key]) throw new ConfigError(`storage = postgres needs ${key}`);
  }
  primarySearchMs(values);
  if ((values.backup_schedule ?? 'off') !== 'off') {
    throw new ConfigError("backup_schedule must be off with storage = postgres: the server's backups are SQLite snapshots; a cluster's backups are PostgreSQL's own (pg_basebackup, WAL archive)");
  }
}

/** storage, as checked when the configuration was loaded. */
export function storageKind(values: Readonly<Record<string, string | null>>): StorageKind {
  return (values.storage ?? 'sqlite') as StorageKind;
}

/** postgres_primary_search_ms, checked: a whole number of ms within its bounds. */
export function primarySearchMs(values: Readonly<Record<string, string | null>>): number {
  const text = values.postgres_primary_search_ms ?? String(DEFAULT_PRIMARY_SEARCH_MS);
  const ms = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(ms >= MIN_PRIMARY_SEARCH_MS && ms <= MAX_PRIMARY_SEARCH_MS)) {
    throw new ConfigError(`postgres_primary_search_ms must be a whole number of milliseconds from ${MIN_PRIMARY_SEARCH_MS} to ${MAX_PRIMARY_SEARCH_MS}, not "${text}"`);
  }
  return ms;
}

/** Where the bridge connects, from postgres_server or postgres_patroni (exactly one). */
export function postgresTarget(values: Readonly<Record<string, string | null>>): PostgresTarget {
  const server = values.postgres_server ?? '';
  const patroni = values.postgres_patroni ?? '';
  if ((server === '') === (patroni === '')) {
    throw new ConfigError('storage = postgres needs exactly one of postgres_server (host:port of one server) and postgres_patroni (the cluster\'s nodes)');
  }
  if (server !== '') return { kind: 'direct', ...hostPort(server, 'postgres_server') };
  const nodes = patroni.split(',').map((item) => item.trim()).filter((item) => item !== '').map(patroniNode);
  if (nodes.length === 0) throw new ConfigError('postgres_patroni names no node');
  const names = new Set(nodes.map((node) => node.name));
  if (names.size !== nodes.length) throw new ConfigError(`postgres_patroni names a node twice: "${patroni}"`);
  return { kind: 'patroni', nodes };
}

function patroniNode(item: string): Extract<PostgresTarget, { kind: 'patroni' }>['nodes'][number] {
  const match = /^([A-Za-z0-9_.-]{1,64})=([^/\s]+)\/([^/\s]+)$/.exec(item);
  if (!match) throw new ConfigError(`postgres_patroni: "${item}" is not NAME=REST_HOST:REST_PORT/PG_HOST:PG_PORT`);
  return { name: match[1], rest: hostPort(match[2], 'postgres_patroni'), postgres: hostPort(match[3], 'postgres_patroni') };
}

/** host:port, or [v6]:port; the port 1..65535. */
function hostPort(text: string, key: string): HostPort {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !(port >= 1 && port <= 65535)) throw new ConfigError(`${key}: "${text}" is not host:port (a port from 1 to 65535)`);
  return { host: match[1] ?? match[2], port };
}
