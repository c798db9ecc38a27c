/**
 * The keys that authenticate the database's authorisation state, derived
 * with HKDF (RFC 5869) from the current keychain key, each under its own
 * label so none is the key that seals material:
 *
 *   rows     HMAC of each client, grant, approval, vote and quorum row
 *   set      HMAC of each row MAC as an element of the set-hash (trust-ledger.ts)
 *   state    AES-256-GCM seal of the set-hash and counter in trust_state
 *
 * They exist only while the keychain is unsealed, and are zeroed with it.
 */
import { createSecretKey, hkdfSync, KeyObject } from 'node:crypto';
import { wipe } from '../../common/secret';

export interface TrustKeys {
  readonly keychainId: string;
  readonly rows: Buffer;
  readonly set: Buffer;
  /** `set` as a KeyObject: an HMAC keyed by one costs about half as much, which the full check's per-row elements notice. */
  readonly setKeyObject: KeyObject;
  readonly state: Buffer;
}

const KEY_BYTES = 32;

function derive(keychainKey: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keychainKey, Buffer.alloc(0), label, KEY_BYTES));
}

export function deriveTrustKeys(keychainId: string, keychainKey: Buffer): TrustKeys {
  const set = derive(keychainKey, 'strongroom/trust-set/v1');
  return {
    keychainId,
    rows: derive(keychainKey, 'strongroom/authorisation-rows/v1'),
    set,
    // A copy inside OpenSSL that cannot be zeroed from JavaScript; it lives as long as the unsealed keychain.
    setKeyObject: createSecretKey(set),
    state: derive(keychainKey, 'strongroom/trust-state/v1'),
  };
}

export function wipeTrustKeys(keys: TrustKeys | null | undefined): void {
  if (keys) wipe(keys.rows, keys.set, keys.state);
}
