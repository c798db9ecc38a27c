/**
 * Files the CLI writes where the operator points it (`--out`): audit
 * exports, reports, client keys and certificates. They may hold key
 * material or the trail, and the folder may be shared, so the file is opened
 * without following a symbolic link at its last component (O_NOFOLLOW: a
 * link planted at the path would redirect the write to a file of the
 * planter's choosing), is refused unless it is a regular file with one link
 * (a hard link would make the same bytes appear under another name), and is
 * 0600 whether it is new or not (fchmod on the open descriptor: an existing
 * file's looser mode is not kept).
 *
 * An existing regular file is replaced (truncated after these checks, never
 * before), as `> file` would; `exclusive` refuses any existing file instead
 * (client issue never overwrites a key).
 */
import { accessSync, closeSync, constants, createWriteStream, fchmodSync, fstatSync, ftruncateSync, lstatSync, openSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { StrongroomError, ValidationError } from '../common/errors';

/** The mode of every --out file: only the operator's account reads what the CLI wrote. */
export const OUT_FILE_MODE = 0o600;

function refused(path: string, why: string, cause?: unknown): StrongroomError {
  return new StrongroomError('OUT_FILE_REFUSED', `${path} ${why}: nothing was written; give a plain file path`, { cause, details: { path } });
}

/**
 * Opens `path` for writing as described above; returns the descriptor
 * (the caller closes it). EEXIST with `exclusive` is INVALID_ARGUMENT ("exists").
 */
export function openOutFile(path: string, options: { exclusive?: boolean } = {}): number {
  const flags =
    constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | (options.exclusive ? constants.O_EXCL : 0);
  let fd: number;
  try {
    fd = openSync(path, flags, OUT_FILE_MODE);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw refused(path, 'is a symbolic link');
    // A FIFO without a reader (O_NONBLOCK keeps the open from waiting for one).
    if (code === 'ENXIO') throw refused(path, 'is not a regular file');
    if (code === 'EEXIST') throw new ValidationError(`${path} exists; remove it or choose another --out`, { cause, details: { path } });
    throw new ValidationError(`cannot write ${path} (${code ?? 'error'}): check the folder exists and is writable`, { cause, details: { path } });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw refused(path, 'is not a regular file');
    if (stat.nlink > 1) throw refused(path, `has ${stat.nlink} hard links`);
    fchmodSync(fd, OUT_FILE_MODE);
    ftruncateSync(fd, 0);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * A check before work whose result would be lost if the file were refused
 * only at the end: OUT_FILE_REFUSED when `path` exists and is a link or not
 * a regular file. openOutFile still checks at the write (the path may change
 * in between).
 */
export function assertNotLink(path: string): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return; // absent (or unreadable: the write will say why)
  }
  if (stat.isSymbolicLink()) throw refused(path, 'is a symbolic link');
  if (!stat.isFile()) throw refused(path, 'is not a regular file');
}

/**
 * The check before work the server does and keeps whatever happens to the
 * copy (a backup made into backup_dir): assertNotLink, and the folder that
 * will hold `path` exists and is writable, so a mistyped --out fails before
 * the request, not after it. openOutFile still checks at the write.
 */
export function assertOutFileWritable(path: string): void {
  assertNotLink(path);
  const folder = dirname(path);
  try {
    if (!statSync(folder).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    accessSync(folder, constants.W_OK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new ValidationError(`cannot write ${path} (${code}): the folder ${folder} ${code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a folder' : 'is not writable'}; create it or choose another --out`, { cause, details: { path } });
  }
}

/** Writes `content` to `path` through openOutFile. */
export function writeOutFile(path: string, content: string | Uint8Array, options: { exclusive?: boolean } = {}): void {
  const fd = openOutFile(path, options);
  try {
    writeFileSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** A write stream on `path` opened through openOutFile (for exports written page by page). */
export function openOutStream(path: string): Writable {
  return createWriteStream('', { fd: openOutFile(path), autoClose: true });
}
