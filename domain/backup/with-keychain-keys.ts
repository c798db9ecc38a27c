/**
 * The one way a backup's keychain keys are used (verify, the restore's row
 * check and its re-seal): taken from their source, the trust keys derived
 * from the current one, the work done, and every one of those key bytes
 * zeroed after, whatever throws. The derivation runs inside the part that
 * wipes: a review found it called before the `try` in each caller, where a
 * failure of it left the keychain keys unwiped.
 */
import { StrongroomError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainRootStore } from '../../storage/keychain-root-store';
import { UnsealedKeychainKey } from '../keychain-key';
import { deriveTrustKeys, TrustKeys, wipeTrustKeys } from '../trust/trust-keys';
import { KeychainKeySource } from './share-bound-keys';

export interface KeychainKeysInUse {
  readonly unsealed: UnsealedKeychainKey;
  /** The current keychain key (unsealed.keys at unsealed.currentVersion). */
  readonly current: Buffer;
  readonly trust: TrustKeys;
}

/** Runs `use` with `store`'s keychain keys from `source` and their trust keys; all are zeroed when it ends or fails. */
export async function withKeychainKeys<T>(source: KeychainKeySource, store: KeychainRootStore, hsm: HsmPort, use: (keys: KeychainKeysInUse) => T | Promise<T>): Promise<T> {
  const unsealed = await source(store, hsm);
  let trust: TrustKeys | null = null;
  try {
    const current = unsealed.keys.get(unsealed.currentVersion);
    if (current === undefined) throw new StrongroomError('INTEGRITY_FAILURE', `the keychain keys hold no current version (v${unsealed.currentVersion})`);
    trust = deriveTrustKeys(unsealed.keychainId, current);
    return await use({ unsealed, current, trust });
  } finally {
    wipeTrustKeys(trust);
    for (const key of unsealed.keys.values()) wipe(key);
  }
}
