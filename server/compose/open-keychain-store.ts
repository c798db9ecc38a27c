/**
 * Opens the keychain store the configuration names (storage): the SQLite
 * file of keychain_path, exactly as before this choice existed (a restore
 * staged before a restart is put in place first), or the PostgreSQL
 * database of the postgres_* settings through the synchronous bridge
 * (docs/cluster/bridge.md, docs/cluster/store.md).
 *
 * On PostgreSQL:
 * - the operator's consent to the weaker destroy promise comes first
 *   (cluster_destroy = logical; docs/cluster/destroy.md): without it nothing is
 *   connected to, and the error names the setting. With it the store is
 *   opened to accept writes that drop sealed material it cannot erase;
 * - there is no read-only open (SQLite's opens the file read-only; a
 *   PostgreSQL open creates or checks the schema under the writer lock), so
 *   local read-only commands are refused (NOT_ON_POSTGRES) and go through
 *   the server instead;
 * - no restore is ever staged (backups of a cluster are PostgreSQL's own).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Clock, systemClock } from '../../common/clock';
import { ApplianceConfig, setting } from '../../common/config';
import { ConfigError, KeychainError, StorageError } from '../../common/errors';
import { CLUSTER_DESTROY_CONSENT, postgresTarget, primarySearchMs, StorageKind, storageKind } from '../../common/storage-settings';
import { finishPendingRestore, RestoreSwapOutcome } from '../../domain/backup/restore-swap';
import { KeychainStore } from '../../storage/keychain-store';
import { openPostgresStore } from '../../storage/postgres/pg-store';
import { readPostgresPassword } from '../../storage/postgres/pg-password-file';
import { openSqliteStore } from '../../storage/sqlite-store';

export interface OpenedKeychainStore {
  readonly store: KeychainStore;
  readonly storage: StorageKind;
  /** What opening did with a restore staged before it (SQLite only; 'none' on PostgreSQL). */
  readonly restore: RestoreSwapOutcome;
}

export interface StoreOpenOptions {
  readonly readonly?: boolean;
  readonly create?: boolean;
  readonly warn?: (message: string) => void;
  readonly clock?: Clock;
}

export function openKeychainStore(config: ApplianceConfig, options: StoreOpenOptions): OpenedKeychainStore {
  return storageKind(config.values) === 'postgres' ? openOnPostgres(config, options) : openOnSqlite(config, options);
}

function openOnSqlite(config: ApplianceConfig, options: StoreOpenOptions): OpenedKeychainStore {
  const keychainPath = setting(config, 'keychain_path');
  // Only init makes a keychain: anything else on a folder without one says so, and creates nothing.
  if (!options.create && !existsSync(keychainPath)) {
    throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', `no keychain at ${keychainPath}: run \`strongroom init --data ${config.dataDir}\` (or give --data)`);
  }
  if (!options.readonly) mkdirSync(dirname(keychainPath), { recursive: true, mode: 0o700 });
  // A restore staged before a restart (or a crash) is put in place before anything opens the file (docs/backup.md §5).
  const restore = options.readonly ? ({ outcome: 'none' } as const) : finishPendingRestore(keychainPath);
  if (restore.outcome === 'restored') options.warn?.(`the keychain was restored from a backup; the replaced keychain is kept as ${restore.keptAs} (remove it once content)`);
  if (restore.outcome === 'abandoned') options.warn?.(`a restore left by a crash was abandoned (${restore.reason}): the current keychain stays`);
  return { store: openSqliteStore(keychainPath, { readonly: options.readonly }), storage: 'sqlite', restore };
}

/** The startup error without the consent: what is accepted, the setting that says so, and where it is explained. */
export const MISSING_DESTROY_CONSENT =
  `storage = postgres needs cluster_destroy = ${CLUSTER_DESTROY_CONSENT}: on PostgreSQL a Destroy is logical, the destroyed key's sealed bytes stay in row versions, ` +
  'the WAL, standbys and WAL archives until overwritten (still sealed under the keychain key, which only the HSM opens); ' +
  `set cluster_destroy = ${CLUSTER_DESTROY_CONSENT} in appliance.conf only if you accept that (docs/cluster/destroy.md, "Destroyed material on PostgreSQL")`;

function openOnPostgres(config: ApplianceConfig, options: StoreOpenOptions): OpenedKeychainStore {
  if (config.values.cluster_destroy !== CLUSTER_DESTROY_CONSENT) throw new ConfigError(MISSING_DESTROY_CONSENT);
  if (options.readonly) {
    throw new StorageError('NOT_ON_POSTGRES', 'this command opens the SQLite keychain file read-only, and this appliance keeps its keychain in PostgreSQL (storage = postgres): run it through the server (--server)');
  }
  const database = setting(config, 'postgres_database');
  const store = openPostgresStore(postgresTarget(config.values), {
    credentials: { user: setting(config, 'postgres_user'), password: readPostgresPassword(setting(config, 'postgres_password_file')), database },
    // The consent above: a Destroy drops the rows, and PostgreSQL keeps copies of the bytes (docs/cluster/store.md).
    acceptUnerasedDrops: true,
    // How long a call waits for a primary during a failover (docs/cluster/finding-the-primary.md): bounded, a setting.
    findPrimaryTimeoutMs: primarySearchMs(config.values),
    clock: options.clock ?? systemClock,
  });
  if (!options.create && store.getMeta() === null) {
    store.close();
    throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', `no keychain in the PostgreSQL database ${database}: run \`strongroom init --data ${config.dataDir}\` with storage = postgres`);
  }
  return { store, storage: 'postgres', restore: { outcome: 'none' } };
}
