/**
 * The server's TLS identity (its certificate and private key, and the CA
 * certificate that clients are checked against), as the listener needs it.
 *
 * A server whose keychain needs custodians' shares starts sealed but must
 * listen, so custodians can reach it: its TLS identity cannot depend on the
 * keychain key. A copy of it is therefore kept sealed for the HSM alone
 * (domain/unseal/hsm-sealed-secrets.ts). The CA private key is NOT copied:
 * issuing certificates still needs an unsealed keychain.
 *
 * Keychains made before this existed have the identity only under the
 * keychain key: the first start that can unseal (PIN mode, or after the
 * custodians) writes the HSM-sealed copy, so later starts can listen sealed.
 */
import { Clock } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { getHsmSealedSecret, putHsmSealedSecrets } from '../../domain/unseal/hsm-sealed-secrets';
import { Appliance } from '../compose/open-appliance';
import { PkiService } from '../../domain/pki/pki-service';

const NAMES = { certificate: 'tls/server-cert', privateKey: 'tls/server-key', ca: 'tls/ca-cert' } as const;

export interface TlsIdentity {
  readonly certificatePem: string;
  /** The private key PEM; the listener zeroes it once node:tls has it. */
  readonly privateKeyPem: Buffer;
  readonly caPem: string;
}

/** Whether the HSM-sealed copy exists (so the server can start sealed). */
export function hasHsmSealedTlsIdentity(appliance: Appliance): boolean {
  return Object.values(NAMES).every((name) => appliance.store.getHsmSealedSecret(name) !== null);
}

/**
 * Copies the TLS identity from the unsealed keychain to the HSM-sealed
 * store (init, and the migration of older keychains).
 */
export async function copyTlsIdentityForSealedStart(appliance: Appliance, clock: Clock): Promise<void> {
  await storeTlsIdentityForSealedStart(appliance, clock, new PkiService(appliance.keychain, appliance.keychain.directory, clock).serverCredentials());
}

/** Writes `credentials` as the HSM-sealed copy (also after a server-certificate renewal), in one transaction. */
export async function storeTlsIdentityForSealedStart(appliance: Appliance, clock: Clock, credentials: { certificatePem: string; privateKeyPem: string; caPem: string }): Promise<void> {
  const hsm = await appliance.hsm();
  const key = Buffer.from(credentials.privateKeyPem);
  try {
    // One transaction: a crash between them must not leave a key beside another identity's certificate.
    await putHsmSealedSecrets(appliance.store, hsm, clock, [
      { name: NAMES.certificate, secret: Buffer.from(credentials.certificatePem) },
      { name: NAMES.ca, secret: Buffer.from(credentials.caPem) },
      { name: NAMES.privateKey, secret: key },
    ]);
  } finally {
    wipe(key);
  }
}

/**
 * The identity for the listener: from the HSM-sealed copy when there is one;
 * else from the unsealed keychain, writing the copy for next time.
 */
export async function loadTlsIdentity(appliance: Appliance, clock: Clock): Promise<TlsIdentity> {
  if (!hasHsmSealedTlsIdentity(appliance)) {
    if (appliance.keychain.isSealed) {
      throw new KeychainError('UNSEAL_SHARES_REQUIRED', 'the TLS identity of this keychain is sealed under the keychain key and no HSM-sealed copy exists: unseal it once locally');
    }
    await copyTlsIdentityForSealedStart(appliance, clock);
  }
  const hsm = await appliance.hsm();
  const text = async (name: string): Promise<string> => {
    const secret = (await getHsmSealedSecret(appliance.store, hsm, name)) as Buffer;
    try {
      return secret.toString('utf8');
    } finally {
      wipe(secret);
    }
  };
  const privateKeyPem = (await getHsmSealedSecret(appliance.store, hsm, NAMES.privateKey)) as Buffer;
  return { certificatePem: await text(NAMES.certificate), caPem: await text(NAMES.ca), privateKeyPem };
}
