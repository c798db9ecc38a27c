/** The wire's bounds on backups (BackupCreate, BackupRead): shared by the schema and the backup maker. */

/** What a backup name looks like: the only names BackupRead accepts (made by the appliance, never by a caller). */
export const BACKUP_NAME_PATTERN = /^backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.srbk$/;
/**
 * The names `backup upload` takes (and `backup restore` reads besides the
 * appliance's own): a plain file name ending .srbk, not a dot-file; `..`
 * is refused besides (backup-upload.ts). Retention counts only the
 * appliance's own names, so an uploaded file under another name is never
 * deleted by it.
 */
export const UPLOAD_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,58}\.srbk$/;
/** The largest file an upload takes: 2 GiB (a keychain of 100,000 keys backs up to about 73 MiB). */
export const MAX_BACKUP_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;
/** Longest backup name the pattern allows. */
export const MAX_BACKUP_NAME_LENGTH = 64;
/** Largest chunk one BackupRead returns: its base64 stays well inside the default 1 MiB frame. */
export const MAX_BACKUP_CHUNK_BYTES = 512 * 1024;
