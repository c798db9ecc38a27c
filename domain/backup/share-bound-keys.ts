/**
 * Where a backup's keychain keys come from when the appliance opens it
 * (verify with the HSM, the restore request, the staging; docs/backup.md §5).
 *
 * An HSM-only keychain's keys come from the HSM alone (unwrapKeychainKey).
 * A share-bound keychain's (domain/unseal/share-binding.ts) need the
 * custodians' secret as well, which the appliance never keeps: the HSM
 * yields only the 64-byte share-bound blob. So a share-bound backup is
 * opened with the keychain keys the custodians unsealed last, lent by the
 * running keychain, and only when the backup's keychain key IS one of them
 * bound to the SAME shares:
 *
 * - the backup is of this keychain (same keychain id) with the same unseal
 *   policy (shares, threshold: they are in the binding's AAD);
 * - for each of its keychain key versions, the blob the HSM unwraps from the
 *   backup's row is byte for byte the blob it unwraps from the live row of
 *   that version: the same keychain key under the same custodians' secret.
 *
 * Anything else is BACKUP_SHARES_MISMATCH before a request is stored:
 * another keychain, or shares made again since the backup. Opening it would
 * need the custodians of that share set at the restore, and restoring it
 * blindly would leave a keychain the current custodians cannot unseal.
 * Equal blobs only say which held key to try: every instance must then open
 * under it and the trust state verify (the checks that follow), so a live
 * row altered to match proves nothing and opens nothing.
 *
 * The lent keys are copies, taken once (the restore seals the keychain
 * before it stages the file, and still needs them), handed out as fresh
 * copies that each caller wipes, and wiped by `wipe()`.
 */
import { timingSafeEqual } from 'node:crypto';
import { KeychainError, StrongroomError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainRootStore } from '../../storage/keychain-root-store';
import { WrappedKeychainKeyRecord } from '../../storage/records';
import { unwrapKeychainKey, UnsealedKeychainKey } from '../keychain-key';

/** The keychain keys of `store` (a backup's snapshot, a staged file): fresh buffers the caller wipes. */
export type KeychainKeySource = (store: KeychainRootStore, hsm: HsmPort) => Promise<UnsealedKeychainKey>;

/** The HSM alone: HSM-only keychains (a share-bound one is UNSEAL_SHARES_REQUIRED). */
export const hsmKeychainKeys: KeychainKeySource = (store, hsm) => unwrapKeychainKey(store, hsm);

function mismatch(why: string, keychainId: string): StrongroomError {
  return new StrongroomError(
    'BACKUP_SHARES_MISMATCH',
    `the backup's keychain ${keychainId} is bound to custodian shares, and ${why}: it opens only with the custodians' shares of that keychain as the backup was made. Restore a backup made since this keychain's shares were last made, or restore it on the appliance whose custodians hold those shares; nothing was stored`,
    { details: { keychainId } },
  );
}

export class LentKeychainKeys {
  private held: UnsealedKeychainKey | null = null;

  /**
   * `copy` gives copies of the running keychain's keys (SEALED when sealed);
   * `live` is the running keychain's store (its wrapped rows and policy).
   */
  constructor(
    private readonly copy: () => UnsealedKeychainKey,
    private readonly live: KeychainRootStore,
  ) {}

  /** The source to open a backup with: the HSM alone for an HSM-only backup, the lent keys for a share-bound one. */
  readonly source: KeychainKeySource = async (store, hsm) => {
    const policy = store.getUnsealPolicy();
    if (policy === null) return hsmKeychainKeys(store, hsm);
    const meta = store.getMeta();
    if (meta === null) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', "the backup's snapshot holds no keychain");
    const livePolicy = this.live.getUnsealPolicy();
    if (this.live.getMeta()?.keychainId !== meta.keychainId) throw mismatch("this appliance's keychain is another one", meta.keychainId);
    if (livePolicy === null || livePolicy.shares !== policy.shares || livePolicy.threshold !== policy.threshold) {
      throw mismatch(`its unseal policy (${policy.threshold} of ${policy.shares}) is not this keychain's now`, meta.keychainId);
    }
    const liveRows = new Map(this.live.listWrappedKeychainKeys().map((row) => [row.version, row]));
    const rows = store.listWrappedKeychainKeys();
    for (const row of rows) {
      const liveRow = liveRows.get(row.version);
      if (liveRow === undefined || !(await sameBoundBlob(hsm, row, liveRow))) {
        throw mismatch(`its keychain key v${row.version} is bound to another share set than this keychain's now (shares made again since the backup)`, meta.keychainId);
      }
    }
    this.held ??= this.copy();
    const keys = new Map<number, Buffer>();
    for (const row of rows) {
      const key = this.held.keys.get(row.version);
      if (key === undefined) {
        for (const k of keys.values()) wipe(k);
        throw mismatch(`this appliance does not hold its keychain key v${row.version}`, meta.keychainId);
      }
      keys.set(row.version, Buffer.from(key));
    }
    return { keychainId: meta.keychainId, keys, currentVersion: rows[rows.length - 1].version };
  };

  /** Zeroes the lent copies (idempotent). */
  wipe(): void {
    if (this.held !== null) for (const key of this.held.keys.values()) wipe(key);
    this.held = null;
  }
}

/** Whether the HSM unwraps both rows to the same share-bound blob (the blobs are zeroed after). */
async function sameBoundBlob(hsm: HsmPort, a: WrappedKeychainKeyRecord, b: WrappedKeychainKeyRecord): Promise<boolean> {
  const unwrap = (row: WrappedKeychainKeyRecord): Promise<Buffer> =>
    hsm.unwrapKey({ mechanism: row.mechanism as 'AES_KEY_WRAP_PAD', masterKeyVersion: row.masterKeyVersion, wrapped: row.wrapped });
  const left = await unwrap(a);
  let right: Buffer | undefined;
  try {
    right = await unwrap(b);
    return left.length === right.length && timingSafeEqual(left, right);
  } finally {
    wipe(left, right);
  }
}
