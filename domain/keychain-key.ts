/**
 * The keychain key: one random AES-256 key that seals every instance's
 * material. It is stored only wrapped by the HSM master key; it is in memory
 * only while the keychain is unsealed, and zeroed when it is sealed.
 *
 * initializeKeychain() makes it (and the token's master key, if the token has
 * none); unwrapKeychainKey() brings it back at unseal. These are the only
 * places the HSM is used for key work: once per unseal, never per request.
 *
 * With custodian shares (init --shares) the stored form is the HSM wrap of a
 * share-bound blob (domain/unseal/share-binding.ts): unwrapping needs the
 * HSM and the secret the shares recombine to.
 */
import { randomFillSync } from 'node:crypto';
import { Clock, isoNow } from '../common/clock';
import { KeychainError, StrongroomError } from '../common/errors';
import { wipe } from '../common/secret';
import { HsmPort, TokenInfo } from '../hsm/hsm-port';
import { KeychainRootStore } from '../storage/keychain-root-store';
import { TransactionalStore } from '../storage/transactional-store';
import { KeychainMetaRecord, UnsealPolicyRecord } from '../storage/records';
import { IdSource } from './ids';
import { bindKeychainKey, BindingContext, deriveUnsealKek, isBoundKeychainKey, openBoundKeychainKey } from './unseal/share-binding';
import { assertMasterKeyCheck, masterKeyCheckRecord } from './unseal/master-key-check';

export const KEYCHAIN_KEY_BYTES = 32;

export interface UnsealedKeychainKey {
  readonly keychainId: string;
  /** Every keychain key version, by version: instances name the one that sealed them. Zeroed on seal. */
  readonly keys: ReadonlyMap<number, Buffer>;
  /** The newest version: what seals new material. */
  readonly currentVersion: number;
}

/** Custodian shares for a new keychain: the recombined secret (the caller wipes it) and the counts. */
export interface ShareBindingOptions {
  readonly secret: Uint8Array;
  readonly shares: number;
  readonly threshold: number;
}

export interface InitializeOptions {
  /**
   * Store the master key check value (domain/unseal/master-key-check.ts) in
   * the same transaction: for a keychain several appliances share
   * (storage = postgres), whose tokens must all hold the same master key.
   */
  readonly masterKeyCheck?: boolean;
}

/**
 * Creates the keychain: uses the token's newest master key (or makes master
 * key v1 in an empty token), draws a keychain key, wraps it, and stores the
 * wrapped form with the keychain's identity. With `shareBinding`, the
 * keychain key is first bound to the custodians' secret and the unseal
 * policy is stored in the same transaction. The plaintext keychain key (and
 * the KEK) are zeroed before returning.
 */
export async function initializeKeychain(
  store: KeychainRootStore & TransactionalStore,
  hsm: HsmPort,
  clock: Clock,
  ids: IdSource,
  shareBinding?: ShareBindingOptions,
  options: InitializeOptions = {},
): Promise<KeychainMetaRecord> {
  if (store.getMeta() !== null) {
    throw new KeychainError('KEYCHAIN_ALREADY_INITIALIZED', 'this data folder already holds a keychain; use another --data folder or remove it deliberately');
  }
  const token = await hsm.tokenInfo();
  const versions = await hsm.listMasterKeyVersions();
  let masterKeyVersion = versions.length > 0 ? versions[versions.length - 1] : 1;
  if (versions.length === 0) await hsm.generateMasterKey(masterKeyVersion);

  const keychainKey = randomFillSync(Buffer.alloc(KEYCHAIN_KEY_BYTES));
  let kek: Buffer | undefined;
  let bound: Buffer | undefined;
  try {
    const now = isoNow(clock);
    const keychainId = ids.newId();
    let policy: UnsealPolicyRecord | null = null;
    if (shareBinding) {
      policy = { binding: 'hsm+shares', shares: shareBinding.shares, threshold: shareBinding.threshold, createdAt: now };
      kek = deriveUnsealKek(shareBinding.secret, keychainId);
      bound = bindKeychainKey(kek, bindingContext(keychainId, 1, policy), keychainKey);
    }
    const wrapped = await hsm.wrapKey(masterKeyVersion, bound ?? keychainKey);
    masterKeyVersion = wrapped.masterKeyVersion;
    const check = options.masterKeyCheck === true ? await masterKeyCheckRecord(hsm, masterKeyVersion, clock) : null;
    const meta: KeychainMetaRecord = {
      keychainId,
      createdAt: now,
      tokenLabel: token.label,
      tokenSerial: token.serialNumber,
    };
    store.transaction(() => {
      store.initialize(meta, {
        version: 1,
        masterKeyVersion,
        mechanism: wrapped.mechanism,
        wrapped: wrapped.wrapped,
        createdAt: now,
      });
      if (policy !== null) store.putUnsealPolicy(policy);
      if (check !== null) store.putHsmSealedSecret(check);
    });
    return meta;
  } finally {
    wipe(keychainKey, kek, bound);
  }
}

function bindingContext(keychainId: string, version: number, policy: UnsealPolicyRecord): BindingContext {
  return { keychainId, version, shares: policy.shares, threshold: policy.threshold };
}

/**
 * Turns what the HSM unwrapped into the keychain key: as is without shares;
 * through the share binding with them. Consumes (wipes) `unwrapped`.
 */
function keychainKeyFrom(unwrapped: Buffer, keychainId: string, version: number, policy: UnsealPolicyRecord | null, kek: Buffer | null): Buffer {
  try {
    if (policy === null || kek === null) {
      if (isBoundKeychainKey(unwrapped)) {
        throw new KeychainError('INTEGRITY_FAILURE', `keychain key v${version} is bound to custodian shares but the keychain has no unseal policy: the database was altered`);
      }
      return Buffer.from(unwrapped);
    }
    return openBoundKeychainKey(kek, bindingContext(keychainId, version, policy), unwrapped);
  } finally {
    wipe(unwrapped);
  }
}

function describeToken(label: string, serial: string): string {
  return `token "${label}" (serial ${serial})`;
}

/**
 * Unwraps every keychain key version with the HSM (one call per version; at
 * unseal only). A token that cannot open them (another token, a missing
 * master key) gets an error that names the token the keychain expects and the
 * one configured. A share-bound keychain also needs `unsealSecret` (the
 * custodians' recombined secret; the caller wipes it): without it,
 * UNSEAL_SHARES_REQUIRED; with a wrong one, UNSEAL_SHARES_INVALID. On
 * failure nothing stays in memory.
 */
export async function unwrapKeychainKey(store: KeychainRootStore, hsm: HsmPort, unsealSecret?: Uint8Array): Promise<UnsealedKeychainKey> {
  const meta = store.getMeta();
  if (meta === null) {
    throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'no keychain in this data folder; run `strongroom init` first');
  }
  const policy = store.getUnsealPolicy();
  if (policy !== null && unsealSecret === undefined) {
    throw new KeychainError('UNSEAL_SHARES_REQUIRED', `this keychain unseals with the HSM and ${policy.threshold} of ${policy.shares} custodian shares: run \`strongroom serve\` and have custodians run \`strongroom unseal\``, {
      details: { threshold: policy.threshold, shares: policy.shares },
    });
  }
  if (policy === null && unsealSecret !== undefined) {
    throw new KeychainError('WRONG_STATE', 'this keychain has no custodian shares: it unseals with the HSM alone');
  }
  // A shared keychain's check value first: another master key is named as such, before any unwrap (docs/cluster/one-appliance.md).
  await assertMasterKeyCheck(store, hsm);
  const records = store.listWrappedKeychainKeys();
  const newest = records[records.length - 1];
  if (newest === undefined) throw new KeychainError('STORAGE_CORRUPT', 'the keychain has no wrapped keychain key');

  const keys = new Map<number, Buffer>();
  let token: TokenInfo | null = null;
  let current = newest;
  const kek = policy !== null && unsealSecret !== undefined ? deriveUnsealKek(unsealSecret, meta.keychainId) : null;
  try {
    token = await hsm.tokenInfo();
    for (const record of records) {
      current = record;
      const unwrapped = await hsm.unwrapKey({
        mechanism: record.mechanism as 'AES_KEY_WRAP_PAD',
        masterKeyVersion: record.masterKeyVersion,
        wrapped: record.wrapped,
      });
      const key = keychainKeyFrom(unwrapped, meta.keychainId, record.version, policy, kek);
      keys.set(record.version, key);
      if (key.length !== KEYCHAIN_KEY_BYTES) {
        throw new KeychainError('MASTER_KEY_MISMATCH', 'the unwrapped keychain key has the wrong length');
      }
    }
    return { keychainId: meta.keychainId, keys, currentVersion: newest.version };
  } catch (err) {
    for (const key of keys.values()) wipe(key);
    const otherToken = token !== null && token.serialNumber !== meta.tokenSerial;
    if (err instanceof StrongroomError && (err.code === 'MASTER_KEY_MISMATCH' || (err.code === 'HSM_MASTER_KEY_MISSING' && otherToken))) {
      const expected = describeToken(meta.tokenLabel, meta.tokenSerial);
      const actual = token ? describeToken(token.label, token.serialNumber) : 'the configured token';
      throw new KeychainError(
        'MASTER_KEY_MISMATCH',
        `this keychain is sealed by master key v${current.masterKeyVersion} of ${expected}; ${actual} cannot open it. Point hsm_token_label at the right token`,
        { cause: err, details: { expectedTokenSerial: meta.tokenSerial, masterKeyVersion: current.masterKeyVersion } },
      );
    }
    throw err;
  } finally {
    wipe(kek);
  }
}
