/** The wire's bounds on backups (BackupCreate, BackupRead): shared by the schema and the backup maker. */

/** What a backup name looks like: the only names BackupRead accepts (made by the appliance, never by a caller). */
export const BACKUP_NAME_PATTERN = /^backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.srbk$/;
/** Longest backup name the pattern allows. */
export const MAX_BACKUP_NAME_LENGTH = 64;
/** Largest chunk one BackupRead returns: its base64 stays well inside the default 1 MiB frame. */
export const MAX_BACKUP_CHUNK_BYTES = 512 * 1024;
