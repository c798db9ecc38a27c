/**
 * Reads a small secret file the appliance is pointed at (the HSM PIN file,
 * the PostgreSQL password file) under one set of rules: a regular file
 * (a symbolic link is not followed), owned by the user running Strongroom,
 * readable by nobody else, and small. A file another local user can read is
 * refused, not warned about. The caller words the refusals it knows best
 * (a missing file says where the secret can come from) and zeroes the
 * returned bytes once used.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export interface OwnerOnlyFileRules {
  /** How the file is named in a refusal (e.g. the path and the setting that points at it). */
  readonly label: string;
  /** "a PIN file", "a password file": what a too large file is not. */
  readonly kind: string;
  readonly maxBytes: number;
  /** The refusal when the file cannot be opened: missing (ENOENT), a link (ELOOP), or another errno. */
  readonly cannotOpen: (code: string | undefined) => string;
  /** The caller's error type, carrying the message (and the errno error as cause when there is one). */
  readonly refuse: (message: string, cause?: unknown) => Error;
}

/** The file's bytes, after its checks: the caller zeroes them. */
export function readOwnerOnlyFile(path: string, rules: OwnerOnlyFileRules): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw rules.refuse(rules.cannotOpen((err as NodeJS.ErrnoException).code), err);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw rules.refuse(`${rules.label} is not a regular file`);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw rules.refuse(`${rules.label} is not owned by the user running Strongroom`);
    if ((stat.mode & 0o077) !== 0) throw rules.refuse(`${rules.label} can be read by group or others; run chmod 600 ${path}`);
    if (stat.size > rules.maxBytes) throw rules.refuse(`${rules.label} is too large to be ${rules.kind}`);
    const raw = Buffer.alloc(stat.size);
    const read = readSync(fd, raw, 0, raw.length, 0);
    if (read === raw.length) return raw;
    const out = Buffer.from(raw.subarray(0, read));
    raw.fill(0);
    return out;
  } finally {
    closeSync(fd);
  }
}
