/**
 * The keychain key: one random AES-256 key that seals every instance's
 * material. It is stored only wrapped by the HSM master key; it is in memory
 * only while the keychain is unsealed, and zeroed when it is sealed.
 *
 * initializeKeychain() makes it (and the token's master key, if the token has
 * none); unwrapKeychainKey() brings it back at unseal. These are the only
 * places the HSM is used for key work: once per unseal, never per request.
 */
import { randomFillSync } from 'node:crypto';
import { Clock, isoNow } from '../common/clock';
import { KeychainError, StrongroomError } from '../common/errors';
import { wipe } from '../common/secret';
import { HsmPort, TokenInfo } from '../hsm/hsm-port';
import { KeychainStore } from '../storage/keychain-store';
import { KeychainMetaRecord } from '../storage/records';
import { IdSource } from './ids';

export const KEYCHAIN_KEY_BYTES = 32;

export interface UnsealedKeychainKey {
  readonly keychainId: string;
  /** Every keychain key version, by version: instances name the one that sealed them. Zeroed on seal. */
  readonly keys: ReadonlyMap<number, Buffer>;
  /** The newest version: what seals new material. */
  readonly currentVersion: number;
}

/**
 * Creates the keychain: uses the token's newest master key (or makes master
 * key v1 in an empty token), draws a keychain key, wraps it, and stores the
 * wrapped form with the keychain's identity. The plaintext keychain key is
 * zeroed before returning.
 */
export async function initializeKeychain(store: KeychainStore, hsm: HsmPort, clock: Clock, ids: IdSource): Promise<KeychainMetaRecord> {
  if (store.getMeta() !== null) {
    throw new KeychainError('KEYCHAIN_ALREADY_INITIALIZED', 'this data folder already holds a keychain; use another --data folder or remove it deliberately');
  }
  const token = await hsm.tokenInfo();
  const versions = await hsm.listMasterKeyVersions();
  let masterKeyVersion = versions.length > 0 ? versions[versions.length - 1] : 1;
  if (versions.length === 0) await hsm.generateMasterKey(masterKeyVersion);

  const keychainKey = randomFillSync(Buffer.alloc(KEYCHAIN_KEY_BYTES));
  try {
    const wrapped = await hsm.wrapKey(masterKeyVersion, keychainKey);
    masterKeyVersion = wrapped.masterKeyVersion;
    const now = isoNow(clock);
    const meta: KeychainMetaRecord = {
      keychainId: ids.newId(),
      createdAt: now,
      tokenLabel: token.label,
      tokenSerial: token.serialNumber,
    };
    store.initialize(meta, {
      version: 1,
      masterKeyVersion,
      mechanism: wrapped.mechanism,
      wrapped: wrapped.wrapped,
      createdAt: now,
    });
    return meta;
  } finally {
    wipe(keychainKey);
  }
}

function describeToken(label: string, serial: string): string {
  return `token "${label}" (serial ${serial})`;
}

/**
 * Unwraps every keychain key version with the HSM (one call per version; at
 * unseal only). A token that cannot open them (another token, a missing
 * master key) gets an error that names the token the keychain expects and the
 * one configured. On failure nothing stays in memory.
 */
export async function unwrapKeychainKey(store: KeychainStore, hsm: HsmPort): Promise<UnsealedKeychainKey> {
  const meta = store.getMeta();
  if (meta === null) {
    throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'no keychain in this data folder; run `strongroom init` first');
  }
  const records = store.listWrappedKeychainKeys();
  const newest = records[records.length - 1];
  if (newest === undefined) throw new KeychainError('STORAGE_CORRUPT', 'the keychain has no wrapped keychain key');

  const keys = new Map<number, Buffer>();
  let token: TokenInfo | null = null;
  let current = newest;
  try {
    token = await hsm.tokenInfo();
    for (const record of records) {
      current = record;
      const key = await hsm.unwrapKey({
        mechanism: record.mechanism as 'AES_KEY_WRAP_PAD',
        masterKeyVersion: record.masterKeyVersion,
        wrapped: record.wrapped,
      });
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
  }
}
