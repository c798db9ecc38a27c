/**
 * A real SoftHSM2 token in a fresh temp folder, for tests that need the
 * PKCS#11 port (the HSM conformance run, the keychain integration tests).
 *
 * It never skips: when softhsm2 is not installed it THROWS, so a missing
 * package fails CI instead of silently passing it.
 *
 * SoftHSM2 reads SOFTHSM2_CONF once, at C_Initialize, and scans its token
 * folder only then. `open()` points SOFTHSM2_CONF at this fixture's conf
 * (useSoftHsmConf), so: create every token you need (`extraLabels`) BEFORE
 * the first open(), and close every port of one fixture before opening
 * another fixture's (the module is finalised when its last port closes).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import * as pkcs11js from 'pkcs11js';
import type { HsmPort } from '../../hsm/hsm-port';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import type { ModuleLease } from '../../hsm/pkcs11-module';
import { createSoftHsmToken, findSoftHsmModule, SOFTHSM_MODULE_PATHS } from '../../hsm/softhsm-token';

/** Bytes of randomness in a generated test PIN (hex-encoded: 32 characters). */
const TEST_PIN_BYTES = 16;

/**
 * Sets SOFTHSM2_CONF where the SoftHSM2 library will see it. Jest gives each
 * test file a COPY of process.env, so `process.env.X = ...` in a test never
 * reaches the real environment that the native library's getenv() reads.
 * vm.runInThisContext evaluates in the worker's real top-level context,
 * whose `process` is the real one; outside jest both are the same object.
 */
export function useSoftHsmConf(softhsmConf: string): void {
  const realProcess = runInThisContext('process') as NodeJS.Process;
  realProcess.env.SOFTHSM2_CONF = softhsmConf;
  process.env.SOFTHSM2_CONF = softhsmConf;
}

export interface SoftHsmFixture {
  readonly dir: string;
  readonly modulePath: string;
  readonly softhsmConf: string;
  readonly label: string;
  readonly userPin: string;
  readonly soPin: string;
  /** Opens a port on the main token (or on `label`, one of `extraLabels`) with the user PIN. */
  open(label?: string): Promise<HsmPort>;
  /** Closes the ports opened through open() and removes the folder. */
  cleanup(): Promise<void>;
}

export async function makeSoftHsmFixture(
  label = 'strongroom-test',
  options: { extraLabels?: readonly string[] } = {},
): Promise<SoftHsmFixture> {
  const modulePath = findSoftHsmModule();
  if (modulePath === null) {
    throw new Error(
      `SoftHSM2 is required by this test and is not installed (looked in ${SOFTHSM_MODULE_PATHS.join(', ')}); ` +
        'install it with `apt-get install softhsm2`. Tests never skip silently.',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'strongroom-softhsm-'));
  const userPin = randomBytes(TEST_PIN_BYTES).toString('hex');
  const soPin = randomBytes(TEST_PIN_BYTES).toString('hex');
  let softhsmConf = '';
  for (const tokenLabel of [label, ...(options.extraLabels ?? [])]) {
    softhsmConf = createSoftHsmToken({ dir, label: tokenLabel, userPin, soPin }).softhsmConf;
  }
  const opened: HsmPort[] = [];

  return {
    dir,
    modulePath,
    softhsmConf,
    label,
    userPin,
    soPin,
    async open(tokenLabel = label): Promise<HsmPort> {
      useSoftHsmConf(softhsmConf);
      const pin = Buffer.from(userPin, 'utf8');
      try {
        const port = await openPkcs11Hsm({ modulePath, tokenLabel, pin });
        opened.push(port);
        return port;
      } finally {
        pin.fill(0);
      }
    },
    async cleanup(): Promise<void> {
      for (const port of opened.splice(0)) await port.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A raw logged-in session on `label`, through the same shared module the
 * ports use, counted as a login so that a port closing does not log it out.
 * Tests use it to inspect objects, or to plant ones Strongroom did not create.
 */
export function rawSession(lease: ModuleLease, label: string, pin: string): { slot: Buffer; session: Buffer } {
  const slot = lease.pkcs11.C_GetSlotList(true).find((s) => lease.pkcs11.C_GetTokenInfo(s).label.trimEnd() === label);
  if (slot === undefined) throw new Error(`no slot for ${label}`);
  const session = lease.pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    lease.pkcs11.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (err) {
    // Login state is per token per process: a port may have logged in already.
    if (!(err instanceof Error && err.message.startsWith('CKR_USER_ALREADY_LOGGED_IN'))) {
      lease.pkcs11.C_CloseSession(session);
      throw err;
    }
  }
  lease.retainLogin(slot);
  return { slot, session };
}

/** Ends what rawSession began: logs out if it was the last login on the token, closes the session. */
export function closeRawSession(lease: ModuleLease, raw: { slot: Buffer; session: Buffer }): void {
  if (lease.releaseLogin(raw.slot)) lease.pkcs11.C_Logout(raw.session);
  lease.pkcs11.C_CloseSession(raw.session);
}
