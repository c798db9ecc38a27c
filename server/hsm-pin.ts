/**
 * Where the token user PIN comes from until custodians unseal with shares:
 * the STRONGROOM_HSM_PIN variable, else the PIN file. The PIN is returned in
 * a Buffer the caller zeroes once logged in.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { HsmError } from '../common/errors';

/** A PIN file larger than this is not a PIN file. */
const MAX_PIN_FILE_BYTES = 256;

export interface PinSource {
  readonly pin: Buffer;
  readonly from: 'env' | 'file';
  /** Set when the PIN file can be read by group or others. */
  readonly warning?: string;
}

export function readHsmPin(pinFile: string, env: NodeJS.ProcessEnv = process.env): PinSource {
  const fromEnv = env.STRONGROOM_HSM_PIN;
  if (fromEnv !== undefined && fromEnv !== '') return { pin: Buffer.from(fromEnv, 'utf8'), from: 'env' };
  if (!existsSync(pinFile)) {
    throw new HsmError('HSM_PIN_MISSING', `no HSM PIN: set STRONGROOM_HSM_PIN or write the PIN to ${pinFile} (mode 0600)`);
  }
  const stat = statSync(pinFile);
  if (stat.size > MAX_PIN_FILE_BYTES) throw new HsmError('HSM_PIN_MISSING', `${pinFile} is too large to be a PIN file`);
  const raw = readFileSync(pinFile);
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d)) end--;
  const pin = Buffer.from(raw.subarray(0, end));
  raw.fill(0);
  if (pin.length === 0) throw new HsmError('HSM_PIN_MISSING', `${pinFile} is empty`);
  const warning = (stat.mode & 0o077) !== 0 ? `${pinFile} is readable by group or others; chmod 600 it` : undefined;
  return { pin, from: 'file', warning };
}
