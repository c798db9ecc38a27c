/**
 * Where the token user PIN comes from until custodians unseal with shares:
 * the STRONGROOM_HSM_PIN variable, else the PIN file. The PIN is returned in
 * a Buffer the caller zeroes once logged in.
 *
 * The variable is removed from this process's environment once read, so
 * child processes (softhsm2-util, openssl) never inherit it. The file is read
 * under common/owner-only-file.ts's rules: a PIN another local user can read
 * is refused, not warned about.
 */
import { HsmError } from '../common/errors';
import { readOwnerOnlyFile } from '../common/owner-only-file';

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
  const raw = readOwnerOnlyFile(pinFile, {
    label: pinFile,
    kind: 'a PIN file',
    maxBytes: MAX_PIN_FILE_BYTES,
    cannotOpen: (code) =>
      code === 'ENOENT'
        ? `no HSM PIN: set STRONGROOM_HSM_PIN or write the PIN to ${pinFile} (mode 0600)`
        : code === 'ELOOP'
          ? `${pinFile} is a symbolic link; point hsm_pin_file at the file itself`
          : `cannot open the PIN file ${pinFile} (${code}); check its owner and mode`,
    refuse,
  });
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
  const pin = Buffer.alloc(end);
  raw.copy(pin, 0, 0, end);
  raw.fill(0);
  if (pin.length === 0) throw refuse(`${pinFile} is empty`);
  return pin;
}
