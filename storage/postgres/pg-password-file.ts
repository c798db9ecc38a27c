/**
 * Reads the PostgreSQL password from postgres_password_file, under the
 * rules the HSM PIN file follows (common/owner-only-file.ts): a regular
 * file (a symbolic link is not followed), owned by the user running
 * Strongroom, readable by nobody else, small; its first line is the password. A
 * password another local user can read is refused, not warned about.
 * Failures are CONFIG_INVALID: the file is part of the configuration.
 *
 * node-postgres takes the password as a string, so it cannot be zeroed
 * after use as the PIN's Buffer is; the bytes read are.
 */
import { ConfigError } from '../../common/errors';
import { readOwnerOnlyFile } from '../../common/owner-only-file';

/** Far above any password; a larger file is not a password file. */
const MAX_PASSWORD_FILE_BYTES = 4096;

export function readPostgresPassword(path: string): string {
  const label = `${path} (postgres_password_file)`;
  const raw = readOwnerOnlyFile(path, {
    label,
    kind: 'a password file',
    maxBytes: MAX_PASSWORD_FILE_BYTES,
    cannotOpen: (code) =>
      code === 'ENOENT'
        ? `no PostgreSQL password: write it to ${path} (mode 0600) or point postgres_password_file at the file holding it`
        : code === 'ELOOP'
          ? `${path} is a symbolic link; point postgres_password_file at the file itself`
          : `cannot open the PostgreSQL password file ${path} (${code}); check its owner and mode`,
    refuse: (message, cause) => new ConfigError(message, cause === undefined ? undefined : { cause }),
  });
  try {
    const password = raw.toString('utf8').split(/\r?\n/)[0];
    if (password === '') throw new ConfigError(`${label} is empty`);
    return password;
  } finally {
    raw.fill(0);
  }
}
