/**
 * Secrets the HSM alone can open: each is AES-256-GCM under a one-off data
 * key (AAD: keychain id and name), and the data key is stored wrapped by the
 * HSM master key version the keychain keys use (CKM_AES_KEY_WRAP_PAD), so
 * master-key rotation rewraps these alongside the keychain keys.
 *
 * For the one thing a sealed appliance must have: its TLS identity, so that
 * custodians can reach it to unseal. Anyone with the HSM (and its PIN) and
 * the database can open these; no key material of the keychain is ever
 * stored this way.
 */
import { randomFillSync } from 'node:crypto';
import { Clock, isoNow } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainRootStore } from '../../storage/keychain-root-store';
import { TransactionalStore } from '../../storage/transactional-store';
import { HsmSealedSecretRecord } from '../../storage/records';
import { encodeFields } from '../field-encoding';
import { openWithAad, sealWithAad } from '../instance-seal';

const DATA_KEY_BYTES = 32;
const AAD_LABEL = 'strongroom/hsm-sealed-secret/v1';

function aad(keychainId: string, name: string): Buffer {
  return encodeFields([AAD_LABEL, keychainId, name]);
}

function keychainIdOf(store: KeychainRootStore): string {
  const meta = store.getMeta();
  if (meta === null) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'no keychain in this data folder; run `strongroom init` first');
  return meta.keychainId;
}

/** The master key version new wrappings use: the one the newest keychain key is wrapped by. */
export function currentMasterKeyVersion(store: KeychainRootStore): number {
  const newest = store.listWrappedKeychainKeys().at(-1);
  if (newest === undefined) throw new KeychainError('STORAGE_CORRUPT', 'the keychain has no wrapped keychain key');
  return newest.masterKeyVersion;
}

/** Seals `secret` (not zeroed: the caller owns it) so that the HSM alone opens it, replacing any secret of that name. */
export async function putHsmSealedSecret(store: KeychainRootStore & TransactionalStore, hsm: HsmPort, clock: Clock, name: string, secret: Buffer): Promise<void> {
  await putHsmSealedSecrets(store, hsm, clock, [{ name, secret }]);
}

/**
 * Seals several secrets that belong together (a certificate, its private
 * key and its CA) and writes them in ONE store transaction, after every HSM
 * wrap is done: a crash or a failure leaves all of them as they were or all
 * of them new, never a key beside another identity's certificate.
 */
export async function putHsmSealedSecrets(store: KeychainRootStore & TransactionalStore, hsm: HsmPort, clock: Clock, secrets: ReadonlyArray<{ name: string; secret: Buffer }>): Promise<void> {
  const keychainId = keychainIdOf(store);
  const version = currentMasterKeyVersion(store);
  const createdAt = isoNow(clock);
  const records: HsmSealedSecretRecord[] = [];
  for (const { name, secret } of secrets) {
    const dataKey = randomFillSync(Buffer.alloc(DATA_KEY_BYTES));
    try {
      const wrapped = await hsm.wrapKey(version, dataKey);
      const sealed = sealWithAad(dataKey, aad(keychainId, name), secret);
      records.push({ name, masterKeyVersion: wrapped.masterKeyVersion, mechanism: wrapped.mechanism, wrappedKey: wrapped.wrapped, sealed, createdAt });
    } finally {
      wipe(dataKey);
    }
  }
  store.transaction(() => {
    for (const record of records) store.putHsmSealedSecret(record);
  });
}

/** Opens a secret with the HSM; null when absent. The caller wipes the Buffer. */
export async function getHsmSealedSecret(store: KeychainRootStore, hsm: HsmPort, name: string): Promise<Buffer | null> {
  const record = store.getHsmSealedSecret(name);
  if (record === null) return null;
  const keychainId = keychainIdOf(store);
  const dataKey = await hsm.unwrapKey({ mechanism: record.mechanism as 'AES_KEY_WRAP_PAD', masterKeyVersion: record.masterKeyVersion, wrapped: record.wrappedKey });
  try {
    return openWithAad(dataKey, aad(keychainId, name), record.sealed, (why, cause) =>
      new KeychainError('INTEGRITY_FAILURE', `HSM-sealed secret ${name} failed authentication (${why})`, { cause }),
    );
  } finally {
    wipe(dataKey);
  }
}
