/**
 * The master key check value of a keychain that several appliances share
 * (storage = postgres; issue 17, docs/cluster/one-appliance.md): every node's token
 * must hold the same master key, and a node whose token holds another one
 * must say so precisely, before it tries anything else.
 *
 * The value: the HSM's AES key wrap (CKM_AES_KEY_WRAP_PAD, deterministic) of
 * a fixed public label under the master key version the keychain keys use.
 * A wrap of a known plaintext reveals nothing of the key (it is AES under a
 * known input, as every classic key check value is). It is kept as a row of
 * hsm_sealed_secrets named MASTER_KEY_CHECK_NAME, its `wrappedKey` being the
 * wrap, so that master-key rotation rewraps it with the keychain keys in the
 * same transaction (the rewrap of the label IS the new version's check
 * value): it never falls out of step with the version it checks.
 *
 * The label is 40 bytes on purpose: a copy of this wrap moved into another
 * root row unwraps to 40 public bytes, which no keychain key (32 bytes), no
 * share-bound blob (authenticated) and no sealed secret's data key (32
 * bytes, checked) is accepted as.
 *
 * Not authenticated by a row MAC, and it need not be: it is read before the
 * keychain key exists, and whatever an attacker writes into it only lets a
 * node refuse (a right token refused: a denial anyone who can write the
 * database has anyway) or lets it go on to the unwrap, whose own integrity
 * check and the trust ledger refuse a wrong master key as before.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Clock, isoNow } from '../../common/clock';
import { KeychainError, StrongroomError } from '../../common/errors';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainRootStore } from '../../storage/keychain-root-store';
import { HsmSealedSecretRecord } from '../../storage/records';

export const MASTER_KEY_CHECK_NAME = 'master-key-check';

/** 40 public bytes: the plaintext the check value wraps. */
const CHECK_LABEL = createHash('sha512').update('strongroom/master-key-check/v1').digest().subarray(0, 40);
/** What the row's `sealed` column holds: nothing secret, only what the row is. */
const CHECK_MARKER = Buffer.from('strongroom/master-key-check/v1', 'utf8');

/** The check value row of master key `masterKeyVersion`, computed by `hsm`. */
export async function masterKeyCheckRecord(hsm: HsmPort, masterKeyVersion: number, clock: Clock): Promise<HsmSealedSecretRecord> {
  const wrapped = await hsm.wrapKey(masterKeyVersion, CHECK_LABEL);
  return { name: MASTER_KEY_CHECK_NAME, masterKeyVersion: wrapped.masterKeyVersion, mechanism: wrapped.mechanism, wrappedKey: wrapped.wrapped, sealed: Buffer.from(CHECK_MARKER), createdAt: isoNow(clock) };
}

/**
 * Refuses (MASTER_KEY_MISMATCH) when the configured token's master key of
 * the version the check value names yields another value; nothing without a
 * check value (a keychain on SQLite, or one made before it existed). A token
 * without that version at all is left to the unwrap (HSM_MASTER_KEY_MISSING
 * or MASTER_KEY_MISMATCH, as before), unless `missingVersion` is 'refuse'
 * (HSM_MASTER_KEY_MISSING now). Reads only; writes nothing.
 */
export async function assertMasterKeyCheck(store: KeychainRootStore, hsm: HsmPort, options: { readonly missingVersion?: 'unwrap-decides' | 'refuse' } = {}): Promise<void> {
  const stored = store.getHsmSealedSecret(MASTER_KEY_CHECK_NAME);
  if (stored === null) return;
  let computed: Buffer;
  try {
    computed = (await hsm.wrapKey(stored.masterKeyVersion, CHECK_LABEL)).wrapped;
  } catch (err) {
    // At unseal the unwrap that follows names the missing version itself; a report (cluster status) has no unwrap after it.
    if (err instanceof StrongroomError && err.code === 'HSM_MASTER_KEY_MISSING' && options.missingVersion !== 'refuse') return;
    throw err;
  }
  if (computed.length === stored.wrappedKey.length && timingSafeEqual(computed, stored.wrappedKey)) return;
  const token = await hsm.tokenInfo();
  throw new KeychainError(
    'MASTER_KEY_MISMATCH',
    `master key v${stored.masterKeyVersion} in token "${token.label}" (serial ${token.serialNumber}) is not the master key this keychain was created with ` +
      '(its key check value differs): every appliance serving one keychain needs the same master key in its own token. ' +
      'Put it there with scripts/share-master-key.sh (or the HSM vendor\'s cloning) and set hsm_imported_master_keys (docs/backup.md §6, docs/cluster/one-appliance.md), then start again',
    { details: { reason: 'masterKeyCheck', masterKeyVersion: stored.masterKeyVersion, tokenSerial: token.serialNumber } },
  );
}
