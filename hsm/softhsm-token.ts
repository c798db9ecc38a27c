/**
 * Makes a SoftHSM2 token in a folder of its own, for tests and demos: writes
 * DIR/softhsm2.conf pointing at DIR/tokens/ and runs `softhsm2-util
 * --init-token --free`. scripts/make-softhsm-token.sh does the same from a
 * shell.
 *
 * SoftHSM2 reads SOFTHSM2_CONF when the library is initialised (C_Initialize)
 * and scans its token folder only then. So callers set
 * `process.env.SOFTHSM2_CONF = token.softhsmConf` BEFORE the first
 * openPkcs11Hsm in the process, create every token they need first, and can
 * switch to another conf only once every port of the module has closed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HsmError, ValidationError } from '../common/errors';
import { MAX_TOKEN_LABEL_BYTES } from './pkcs11-session';

export interface SoftHsmToken {
  readonly modulePath: string;
  readonly softhsmConf: string;
  readonly tokenDir: string;
  readonly label: string;
}

/** Where Debian and Ubuntu install the SoftHSM2 module, by architecture. */
export const SOFTHSM_MODULE_PATHS: readonly string[] = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
];

const SOFTHSM_UTIL = 'softhsm2-util';
/** softhsm2-util's PIN length bounds (SoftHSM2 MIN_PIN_LEN / MAX_PIN_LEN). */
const MIN_PIN_LENGTH = 4;
const MAX_PIN_LENGTH = 255;
/** softhsm2-util answers in well under a second; a hang must not stall a test run. */
const SOFTHSM_UTIL_TIMEOUT_MS = 30_000;

/** The installed SoftHSM2 module, or null. */
export function findSoftHsmModule(): string | null {
  return SOFTHSM_MODULE_PATHS.find((path) => existsSync(path)) ?? null;
}

/** Creates (or finds, when it already exists) the token `label` under `dir`. */
export function createSoftHsmToken(options: { dir: string; label: string; userPin: string; soPin: string }): SoftHsmToken {
  const { dir, label, userPin, soPin } = options;
  if (label.length === 0 || Buffer.byteLength(label, 'utf8') > MAX_TOKEN_LABEL_BYTES) {
    throw new ValidationError(`token label must be 1..${MAX_TOKEN_LABEL_BYTES} bytes`);
  }
  for (const pin of [userPin, soPin]) {
    if (pin.length < MIN_PIN_LENGTH || pin.length > MAX_PIN_LENGTH) {
      throw new ValidationError(`SoftHSM2 PINs must be ${MIN_PIN_LENGTH}..${MAX_PIN_LENGTH} characters`);
    }
  }
  const modulePath = findSoftHsmModule();
  if (modulePath === null) {
    throw new HsmError('HSM_MODULE_NOT_FOUND', `SoftHSM2 is not installed (looked in ${SOFTHSM_MODULE_PATHS.join(', ')}); apt-get install softhsm2`);
  }
  const tokenDir = join(dir, 'tokens');
  const softhsmConf = join(dir, 'softhsm2.conf');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    softhsmConf,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    { mode: 0o600 },
  );
  const token: SoftHsmToken = { modulePath, softhsmConf, tokenDir, label };
  if (listSoftHsmLabels(softhsmConf).includes(label)) return token;
  // PINs travel in argv, visible to `ps` on this host for an instant: fine
  // for a test or demo token, never for a production one.
  runUtil(softhsmConf, ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', userPin]);
  return token;
}

/** Labels of the initialised tokens under `softhsmConf`. */
export function listSoftHsmLabels(softhsmConf: string): string[] {
  const out = runUtil(softhsmConf, ['--show-slots']);
  const labels: string[] = [];
  for (const line of out.split('\n')) {
    const match = /^\s+Label:\s(.*)$/.exec(line);
    if (match === null) continue;
    const label = match[1].trim();
    if (label !== '') labels.push(label);
  }
  return labels;
}

function runUtil(softhsmConf: string, args: string[]): string {
  try {
    return execFileSync(SOFTHSM_UTIL, args, {
      env: { ...process.env, SOFTHSM2_CONF: softhsmConf },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: SOFTHSM_UTIL_TIMEOUT_MS,
    });
  } catch (err) {
    // args[0] only: the rest may hold PINs.
    throw new HsmError('HSM_ERROR', `${SOFTHSM_UTIL} ${args[0]} failed (is softhsm2 installed?)`, {
      cause: stripArgs(err),
    });
  }
}

/** execFileSync errors repeat the whole command line, PINs included: keep only the status and stderr. */
function stripArgs(err: unknown): Error {
  const e = err as { status?: number | null; stderr?: string; code?: string };
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
  return new Error(`status ${e.status ?? e.code ?? 'unknown'}${stderr ? `: ${stderr}` : ''}`);
}
