/**
 * Master-key rotation: a new master key version in the HSM, every keychain
 * key version (and every HSM-sealed secret's data key) rewrapped under it in
 * one store transaction, and checked; the old versions stay in the token
 * unless the operator asks for them to be destroyed.
 *
 * Steps, and what a crash (SIGKILL) at each leaves:
 *   1. generate v(N+1), N the newest version any row references. A crash
 *      before or after: rows still name vN; v(N+1), if made, is unreferenced
 *      and the next run reuses it (it cannot wrap anything yet).
 *   2. unwrap each row with its version, wrap under v(N+1), and check the new
 *      wrap opens to the same bytes, all before writing anything. The bytes
 *      rewrapped are the keychain key, or for a share-bound keychain the
 *      inner share-bound blob (domain/unseal/share-binding.ts): the binding
 *      is unchanged and rotation needs no custodian.
 *   3. ONE transaction rewrites every row, after checking each is as read in
 *      step 2 (a concurrent rotation makes this one stop). A crash inside it:
 *      SQLite rolls it back; every row still names vN.
 *   4. after the commit, every row is read back and unwrapped with v(N+1).
 *   5. only with `destroyOld`: versions older than v(N+1) that no row of
 *      THIS keychain references are destroyed in the token. A crash before
 *      or among them leaves unreferenced old versions, harmless: `master-key
 *      status` lists them and the next rotation with destroyOld destroys
 *      them.
 * Old versions are KEPT by default. "Nothing references it" can only be
 * judged for this keychain file, but a token is often shared: a DR copy of
 * the keychain, a restore test, and every database backup taken before the
 * rotation still name the old version, and destroying it in the token makes
 * them unopenable for good (the master key is not extractable: no copy
 * exists anywhere). Destroying is therefore an explicit choice of the
 * operator, who knows that no other keychain or backup uses that token.
 */
import { timingSafeEqual } from 'node:crypto';
import { KeychainError, StrongroomError } from '../common/errors';
import { wipe } from '../common/secret';
import { HsmPort, WrappedKey } from '../hsm/hsm-port';
import { KeychainRootStore } from '../storage/keychain-root-store';
import { TransactionalStore } from '../storage/transactional-store';
import type { MasterKeyStatus, RotationResult } from './master-key-status';

export type { MasterKeyStatus, RotationResult } from './master-key-status';

/** Where a test (or a fault) can stop a rotation: each is after the step it names. */
export type RotationStep = 'before-generate' | 'after-generate' | 'after-rewrap-prepared' | 'mid-transaction' | 'after-commit' | 'mid-destroy' | 'after-destroy';

export interface RotationOptions {
  /**
   * Destroy, after the commit, the old master key versions this keychain no
   * longer references. Irreversible, and wrong whenever another keychain (a
   * DR copy, a restore test) or a backup taken before the rotation uses the
   * token: off by default, old versions stay (listed as unreferenced).
   */
  readonly destroyOld?: boolean;
  /** Called at each step, synchronously (inside the transaction for mid-transaction). */
  readonly at?: (step: RotationStep) => void;
}



interface Rewrap {
  readonly kind: 'keychain-key' | 'secret';
  readonly id: number | string;
  readonly old: Buffer;
  readonly next: Buffer;
}

function references(store: KeychainRootStore): Map<number, { keychainKeys: number; secrets: number }> {
  const counts = new Map<number, { keychainKeys: number; secrets: number }>();
  const entry = (v: number) => counts.get(v) ?? (counts.set(v, { keychainKeys: 0, secrets: 0 }), counts.get(v) as { keychainKeys: number; secrets: number });
  for (const record of store.listWrappedKeychainKeys()) entry(record.masterKeyVersion).keychainKeys++;
  for (const record of store.listHsmSealedSecrets()) entry(record.masterKeyVersion).secrets++;
  return counts;
}

export async function masterKeyStatus(store: KeychainRootStore, hsm: HsmPort): Promise<MasterKeyStatus> {
  const counts = references(store);
  if (counts.size === 0) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'no keychain in this data folder; run `strongroom init` first');
  const tokenVersions = await hsm.listMasterKeyVersions();
  const referenced = [...counts.entries()].sort(([a], [b]) => a - b).map(([version, c]) => ({ version, ...c }));
  return {
    tokenVersions,
    current: Math.max(...counts.keys()),
    referenced,
    unreferenced: tokenVersions.filter((v) => !counts.has(v)),
    missing: [...counts.keys()].filter((v) => !tokenVersions.includes(v)).sort((a, b) => a - b),
  };
}

async function rewrapOne(hsm: HsmPort, from: WrappedKey, to: number): Promise<Buffer> {
  let plain: Buffer | undefined;
  let check: Buffer | undefined;
  try {
    plain = await hsm.unwrapKey(from);
    const next = await hsm.wrapKey(to, plain);
    check = await hsm.unwrapKey(next);
    if (check.length !== plain.length || !timingSafeEqual(check, plain)) {
      throw new KeychainError('MASTER_KEY_ROTATION_FAILED', `master key v${to} did not give back what it wrapped`);
    }
    return next.wrapped;
  } finally {
    wipe(plain, check);
  }
}

function failed(step: string, err: unknown): StrongroomError {
  if (err instanceof StrongroomError && err.code === 'MASTER_KEY_ROTATION_FAILED') return err;
  const code = err instanceof StrongroomError ? err.code : 'INTERNAL_ERROR';
  return new KeychainError('MASTER_KEY_ROTATION_FAILED', `master-key rotation stopped at ${step} (${code}); nothing the keychain uses changed: fix that and run it again`, {
    cause: err,
    details: { step, cause: code },
  });
}

export async function rotateMasterKey(store: KeychainRootStore & TransactionalStore, hsm: HsmPort, options: RotationOptions = {}): Promise<RotationResult> {
  const at = options.at ?? (() => undefined);
  const before = references(store);
  if (before.size === 0) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'no keychain in this data folder; run `strongroom init` first');
  const from = [...before.keys()].sort((a, b) => a - b);
  const target = Math.max(...from) + 1;

  // Step 1: the new version (reused when a crashed run made it: no row can reference it).
  let reusedVersion = false;
  try {
    at('before-generate');
    reusedVersion = (await hsm.listMasterKeyVersions()).includes(target);
    if (!reusedVersion) await hsm.generateMasterKey(target);
    at('after-generate');
  } catch (err) {
    throw failed('generate', err);
  }

  // Step 2: every new wrapping, made and checked before anything is written.
  const rewraps: Rewrap[] = [];
  try {
    for (const record of store.listWrappedKeychainKeys()) {
      const next = await rewrapOne(hsm, { mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: record.masterKeyVersion, wrapped: record.wrapped }, target);
      rewraps.push({ kind: 'keychain-key', id: record.version, old: record.wrapped, next });
    }
    for (const record of store.listHsmSealedSecrets()) {
      const next = await rewrapOne(hsm, { mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: record.masterKeyVersion, wrapped: record.wrappedKey }, target);
      rewraps.push({ kind: 'secret', id: record.name, old: record.wrappedKey, next });
    }
    at('after-rewrap-prepared');
  } catch (err) {
    throw failed('rewrap', err);
  }

  // Step 3: one transaction; a row that changed since step 2 stops it all.
  try {
    store.transaction(() => {
      const keys = new Map(store.listWrappedKeychainKeys().map((r) => [r.version as number | string, r.wrapped]));
      const secrets = new Map(store.listHsmSealedSecrets().map((r) => [r.name as number | string, r.wrappedKey]));
      rewraps.forEach((rewrap, index) => {
        const current = (rewrap.kind === 'keychain-key' ? keys : secrets).get(rewrap.id);
        if (current === undefined || !current.equals(rewrap.old)) {
          throw new KeychainError('WRONG_STATE', 'the keychain changed during the rotation (another rotation?); run it again');
        }
        if (rewrap.kind === 'keychain-key') store.rewrapKeychainKey(rewrap.id as number, target, rewrap.next);
        else store.rewrapHsmSealedSecret(rewrap.id as string, target, rewrap.next);
        if (index === 0) at('mid-transaction');
      });
      if ((keys.size + secrets.size) !== rewraps.length) {
        throw new KeychainError('WRONG_STATE', 'rows were added during the rotation; run it again');
      }
    });
  } catch (err) {
    throw failed('commit', err);
  }
  at('after-commit');

  // Step 4: what was committed opens with the new version.
  for (const record of store.listWrappedKeychainKeys()) {
    if (record.masterKeyVersion !== target) throw new KeychainError('MASTER_KEY_ROTATION_FAILED', `keychain key v${record.version} is not wrapped by master key v${target} after the commit`);
    wipe(await hsm.unwrapKey({ mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: target, wrapped: record.wrapped }));
  }
  for (const record of store.listHsmSealedSecrets()) {
    wipe(await hsm.unwrapKey({ mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: target, wrapped: record.wrappedKey }));
  }

  // Step 5, only when asked: old versions this keychain no longer references (read again: the commit is what counts).
  const destroyed: number[] = [];
  if (options.destroyOld === true) {
    const still = references(store);
    const old = (await hsm.listMasterKeyVersions()).filter((v) => v < target && !still.has(v));
    for (const version of old) {
      await hsm.destroyMasterKey(version);
      destroyed.push(version);
      if (destroyed.length === 1) at('mid-destroy');
    }
    at('after-destroy');
  }
  const counts = { keychainKeys: rewraps.filter((r) => r.kind === 'keychain-key').length, secrets: rewraps.filter((r) => r.kind === 'secret').length };
  return { from, to: target, reusedVersion, rewrapped: counts, destroyed };
}
