/**
 * Where the token user PIN comes from until custodians unseal with shares:
 * the STRONGROOM_HSM_PIN variable, else the PIN file. The PIN is returned in
 * a Buffer the caller zeroes once logged in.
 *
 * The variable is removed from this process's environment once read, so
 * child processes (softhsm2-util, openssl) never inherit it. The file must be
 * a regular file (symlinks are not followed), owned by this user, readable by
 * nobody else: a PIN another local user can read is refused, not warned about.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { HsmError } from '../common/errors';

/** A PIN file larger than this is not a PIN file (and reading it is refused before it is read). */
const MAX_PIN_FILE_BYTES = 256;

export interface PinSource {
  readonly pin: Buffer;
  readonly from: 'env' | 'file';
}

export function readHsmPin(pinFile: string, env: NodeJS.ProcessEnv = process.env): PinSource {
  const fromEnv = env.STRONGROOM_HSM_PIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    delete env.STRONGROOM_HSM_PIN;
    return { pin: Buffer.from(fromEnv, 'utf8'), from: 'env' };
  }
  return { pin: readPinFile(pinFile), from: 'file' };
}

function refuse(message: string, cause?: unknown): HsmError {
  return new HsmError('HSM_PIN_MISSING', message, { cause });
}

function readPinFile(pinFile: string): Buffer {
  let fd: number;
  try {
    fd = openSync(pinFile, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return throwIt(refuse(`no HSM PIN: set STRONGROOM_HSM_PIN or write the PIN to ${pinFile} (mode 0600)`, err));
    if (code === 'ELOOP') return throwIt(refuse(`${pinFile} is a symbolic link; point hsm_pin_file at the file itself`, err));
    return throwIt(refuse(`cannot open the PIN file ${pinFile} (${code}); check its owner and mode`, err));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw refuse(`${pinFile} is not a regular file`);
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw refuse(`${pinFile} is not owned by the user running Strongroom`);
    if ((stat.mode & 0o077) !== 0) throw refuse(`${pinFile} can be read by group or others; run chmod 600 ${pinFile}`);
    if (stat.size > MAX_PIN_FILE_BYTES) throw refuse(`${pinFile} is too large to be a PIN file`);
    const raw = Buffer.alloc(stat.size);
    const read = readSync(fd, raw, 0, raw.length, 0);
    let end = read;
    while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
    const pin = Buffer.alloc(end);
    raw.copy(pin, 0, 0, end);
    raw.fill(0);
    if (pin.length === 0) throw refuse(`${pinFile} is empty`);
    return pin;
  } finally {
    closeSync(fd);
  }
}

function throwIt(error: HsmError): never {
  throw error;
}
