/**
 * The backups service of an appliance whose keychain is in PostgreSQL
 * (storage = postgres): every backup operation is refused with
 * NOT_ON_POSTGRES. The appliance's backups are SQLite snapshots (VACUUM INTO
 * of the keychain file, signed with its manifest) and its restore swaps that
 * file; neither exists on a cluster, whose backups are PostgreSQL's own
 * (pg_basebackup, the WAL archive: docs/cluster.md). Refused rather than
 * absent, so that an officer reads why, with a stable code, instead of
 * "this server does not make backups". Nothing touches backup_dir.
 */
import { backupRetention } from '../../common/backup-settings';
import { setting } from '../../common/config';
import { StorageError } from '../../common/errors';
import { Services } from '../../operations/context';
import { Appliance } from './open-appliance';

/** What every refusal says. */
export const BACKUPS_ON_POSTGRES_MESSAGE =
  "this appliance keeps its keychain in PostgreSQL (storage = postgres): its own backups and restores are of a SQLite keychain file and are not made here; a cluster's backups are PostgreSQL's own (pg_basebackup, the WAL archive; docs/cluster.md); nothing was done";

function refuse(): never {
  throw new StorageError('NOT_ON_POSTGRES', BACKUPS_ON_POSTGRES_MESSAGE);
}

export function postgresBackupRefusals(appliance: Appliance): NonNullable<Services['backups']> {
  return {
    create: async () => refuse(),
    read: () => refuse(),
    list: async () => refuse(),
    upload: async () => refuse(),
    // The schedule is refused when the configuration is loaded (common/storage-settings.ts).
    schedule: null,
    retention: backupRetention(setting(appliance.config, 'backup_retention')),
    restore: {
      prepare: async () => refuse(),
      execute: async () => refuse(),
    },
  };
}
