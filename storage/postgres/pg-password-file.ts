/**
 * Reads the PostgreSQL password from postgres_password_file, under the
 * rules the HSM PIN file follows (hsm/hsm-pin.ts): a regular file (a
 * symbolic link is not followed), owned by the user running Strongroom,
 * readable by nobody else, small; its first line is the password. A
 * password another local user can read is refused, not warned about.
 * Failures are CONFIG_INVALID: the file is part of the configuration.
 *
 * node-postgres takes the password as a string, so it cannot be zeroed
 * after use as the PIN's Buffer is; the bytes read are.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../../common/errors';

/** Far above any password; a larger file is not a password file. */
const MAX_PASSWORD_FILE_BYTES = 4096;

export function readPostgresPassword(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`no PostgreSQL password: write it to ${path} (mode 0600) or point postgres_password_file at the file holding it`, { cause: err });
    if (code === 'ELOOP') throw new ConfigError(`${path} is a symbolic link; point postgres_password_file at the file itself`, { cause: err });
    throw new ConfigError(`cannot open the PostgreSQL password file ${path} (${code}); check its owner and mode`, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(`${path} (postgres_password_file) is not a regular file`);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw new ConfigError(`${path} (postgres_password_file) is not owned by the user running Strongroom`);
    if ((stat.mode & 0o077) !== 0) throw new ConfigError(`${path} (postgres_password_file) can be read by group or others; run chmod 600 ${path}`);
    if (stat.size > MAX_PASSWORD_FILE_BYTES) throw new ConfigError(`${path} (postgres_password_file) is too large to be a password file`);
    const raw = Buffer.alloc(stat.size);
    try {
      const read = readSync(fd, raw, 0, raw.length, 0);
      const password = raw.subarray(0, read).toString('utf8').split(/\r?\n/)[0];
      if (password === '') throw new ConfigError(`${path} (postgres_password_file) is empty`);
      return password;
    } finally {
      raw.fill(0);
    }
  } finally {
    closeSync(fd);
  }
}
