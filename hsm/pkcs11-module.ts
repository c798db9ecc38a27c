/**
 * Loading and initialising a PKCS#11 module (.so), shared per process.
 *
 * A PKCS#11 library is a process-wide singleton: C_Initialize may run once
 * per process (a second call returns CKR_CRYPTOKI_ALREADY_INITIALIZED) and a
 * single C_Finalize ends every session of every user in the process. The
 * login state is per token per process too: C_Logout in one session logs out
 * every session of the process on that token. Several Pkcs11Hsm ports may
 * live in one process (jest reuses workers, the CLI may open twice), so this
 * file keeps a reference count per module path and per logged-in slot:
 * C_Finalize runs when the last port of a module closes, C_Logout when the
 * last port of a token closes.
 *
 * SoftHSM2 reads SOFTHSM2_CONF (and scans its token folder) at C_Initialize
 * only: tokens created afterwards, or another SOFTHSM2_CONF, are seen only
 * after every port of the module has closed.
 */
import * as pkcs11js from 'pkcs11js';
import { HsmError } from '../common/errors';
import { hsmError, isCkr } from './pkcs11-errors';

/** Builds an unloaded binding; a seam for tests that inject token behaviour. */
export type Pkcs11Factory = () => pkcs11js.PKCS11;

export const defaultPkcs11Factory: Pkcs11Factory = () => new pkcs11js.PKCS11();

interface ModuleEntry {
  readonly pkcs11: pkcs11js.PKCS11;
  /** False when someone else in the process had already initialised the library: we must not finalise it. */
  readonly ownsInitialize: boolean;
  users: number;
  /** Open ports per logged-in slot (slot id in hex). */
  readonly loginsBySlot: Map<string, number>;
}

/**
 * The one piece of module-level mutable state in hsm/: the platform forces
 * it, because the PKCS#11 library behind it is itself process-global (see
 * the file docblock). Keyed by module path.
 */
const modules = new Map<string, ModuleEntry>();

/** A counted reference to an initialised module; release it exactly once. */
export interface ModuleLease {
  readonly pkcs11: pkcs11js.PKCS11;
  readonly modulePath: string;
  /** Records that a port logged in to `slot`. */
  retainLogin(slot: Buffer): void;
  /** Forgets one port's login; true when it was the last, so the caller should C_Logout. */
  releaseLogin(slot: Buffer): boolean;
  /** Drops this reference; finalises and unloads the module when it was the last. */
  release(): void;
}

/** Loads and initialises the module at `modulePath`, or shares the instance this process already has. */
export function acquireModule(modulePath: string, factory: Pkcs11Factory = defaultPkcs11Factory): ModuleLease {
  let entry = modules.get(modulePath);
  if (entry === undefined) {
    entry = loadAndInitialize(modulePath, factory);
    modules.set(modulePath, entry);
  }
  entry.users += 1;
  return lease(modulePath, entry);
}

function loadAndInitialize(modulePath: string, factory: Pkcs11Factory): ModuleEntry {
  const pkcs11 = factory();
  try {
    pkcs11.load(modulePath);
  } catch (err) {
    throw new HsmError(
      'HSM_MODULE_NOT_FOUND',
      `cannot load the PKCS#11 module '${modulePath}'; check hsm_module`,
      { cause: err, details: { modulePath } },
    );
  }
  let ownsInitialize = true;
  try {
    // CKF_OS_LOCKING_OK: pkcs11js runs the *Async calls on libuv worker
    // threads, so the library must lock; without it those calls fail.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (!isCkr(err, 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) {
      safely(() => pkcs11.close());
      throw hsmError(err, 'C_Initialize');
    }
    // Initialised by another user of the library in this process (another
    // binding instance, another jest module registry): share it, never finalise it.
    ownsInitialize = false;
  }
  return { pkcs11, ownsInitialize, users: 0, loginsBySlot: new Map() };
}

function lease(modulePath: string, entry: ModuleEntry): ModuleLease {
  let released = false;
  return {
    pkcs11: entry.pkcs11,
    modulePath,
    retainLogin(slot: Buffer): void {
      const key = slot.toString('hex');
      entry.loginsBySlot.set(key, (entry.loginsBySlot.get(key) ?? 0) + 1);
    },
    releaseLogin(slot: Buffer): boolean {
      const key = slot.toString('hex');
      const left = (entry.loginsBySlot.get(key) ?? 1) - 1;
      if (left > 0) {
        entry.loginsBySlot.set(key, left);
        return false;
      }
      entry.loginsBySlot.delete(key);
      return true;
    },
    release(): void {
      if (released) return;
      released = true;
      entry.users -= 1;
      if (entry.users > 0) return;
      modules.delete(modulePath);
      if (entry.ownsInitialize) safely(() => entry.pkcs11.C_Finalize());
      safely(() => entry.pkcs11.close());
    },
  };
}

/** Runs a best-effort teardown step; a failure there must not hide the caller's own error. */
export function safely(step: () => void): void {
  try {
    step();
  } catch {
    // teardown: nothing useful to do with the error
  }
}
