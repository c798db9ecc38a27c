/**
 * Which signing public key `audit verify` trusts for checkpoints, in order:
 * a copy the auditor kept (`--public-key FILE`, from `audit public-key`),
 * the HSM itself (when this machine reaches it), or — with a warning — the
 * key recorded in the keychain file beside the checkpoints, which proves
 * nothing against someone who can rewrite that file and sign with a key of
 * their own, but still catches truncation by anyone who cannot.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../common/errors';
import { Appliance } from '../../server/compose/open-appliance';

export type TrustSource = 'file' | 'hsm' | 'keychain-file' | 'none';

export interface TrustedKey {
  readonly publicKeyPem: string | null;
  readonly source: TrustSource;
}

export async function trustedSigningKey(appliance: Appliance, publicKeyFile: string | undefined): Promise<TrustedKey> {
  if (publicKeyFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(publicKeyFile, 'utf8');
    } catch (cause) {
      throw new ValidationError(`cannot read --public-key ${publicKeyFile}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
    }
    if (!pem.includes('BEGIN PUBLIC KEY')) throw new ValidationError(`--public-key ${publicKeyFile} is not a PEM public key (get one with \`strongroom audit public-key\`)`);
    return { publicKeyPem: pem, source: 'file' };
  }
  try {
    return { publicKeyPem: await (await appliance.hsm()).signingPublicKey(), source: 'hsm' };
  } catch {
    const recorded = appliance.store.audit.lastAuditCheckpoint()?.publicKey ?? null;
    return recorded === null ? { publicKeyPem: null, source: 'none' } : { publicKeyPem: recorded, source: 'keychain-file' };
  }
}
