/**
 * The keychain's sealing state: the keychain keys (every version) and the row
 * MAC key derived from the newest, in memory only while unsealed. Unseal
 * unwraps them with the HSM (once, shared by concurrent callers); seal zeroes
 * them. Appliance secrets (e.g. the CA private key) are sealed under the
 * current keychain key here too. Every other part of the keychain asks
 * requireUnsealed() first, so a sealed keychain refuses with SEALED.
 */
import { Clock, isoNow } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { encodeFields } from '../field-encoding';
import { openWithAad, sealWithAad } from '../instance-seal';
import { UnsealedKeychainKey, unwrapKeychainKey } from '../keychain-key';
import { deriveRowMacKey } from '../row-mac';
import { deriveTrustKeys, TrustKeys, wipeTrustKeys } from '../trust/trust-keys';

/** The keychain keys and the row MAC and trust keys derived from the newest one, while unsealed. */
export interface Unsealed extends UnsealedKeychainKey {
  readonly macKey: Buffer;
  readonly trust: TrustKeys;
}

/** Run at unseal with the new trust keys, before the keychain serves anything: rejects to keep it sealed. */
export type UnsealCheck = (keys: TrustKeys, hsm: HsmPort) => Promise<void>;

export class KeychainSeal {
  private unsealed: Unsealed | null = null;
  /** The unseal in progress, so concurrent callers share one HSM round and one key copy. */
  private unsealing: Promise<void> | null = null;
  /** Bumped by seal(): an unseal that finishes after a seal must not undo it. */
  private sealCount = 0;

  constructor(
    private readonly store: KeychainStore,
    private readonly clock: Clock,
    private readonly checkAtUnseal: UnsealCheck = async () => undefined,
  ) {}

  get isSealed(): boolean {
    return this.unsealed === null;
  }

  /** How many times it was sealed: what was held in memory under an earlier count is gone (domain/gcm-streams.ts). */
  get sealGeneration(): number {
    return this.sealCount;
  }

  /**
   * Unwraps the keychain keys with the HSM; a share-bound keychain also
   * needs the custodians' recombined secret (the caller wipes it).
   */
  async unseal(hsm: HsmPort, unsealSecret?: Uint8Array): Promise<void> {
    if (this.unsealed !== null) return;
    this.unsealing ??= this.unwrap(hsm, unsealSecret).finally(() => {
      this.unsealing = null;
    });
    return this.unsealing;
  }

  /** Zeroes every keychain key version and the row MAC key. Idempotent. */
  seal(): void {
    this.sealCount++;
    if (this.unsealed !== null) {
      for (const key of this.unsealed.keys.values()) wipe(key);
      wipe(this.unsealed.macKey);
      wipeTrustKeys(this.unsealed.trust);
    }
    this.unsealed = null;
  }

  /** The trust keys while unsealed; null while sealed. */
  trustKeys(): TrustKeys | null {
    return this.unsealed?.trust ?? null;
  }

  requireUnsealed(): Unsealed {
    if (this.unsealed === null) throw new KeychainError('SEALED', 'the keychain is sealed; unseal it first');
    return this.unsealed;
  }

  /** The keychain key version that sealed a row (INTEGRITY_FAILURE when this keychain does not have it). */
  sealingKey(unsealed: Unsealed, version: number): Buffer {
    const key = unsealed.keys.get(version);
    if (!key) throw new KeychainError('INTEGRITY_FAILURE', `material sealed by keychain key v${version}, which this keychain does not have`);
    return key;
  }

  /** Seals an appliance secret (e.g. the CA private key) under the current keychain key and stores it. */
  putSystemSecret(name: string, secret: Buffer): void {
    const unsealed = this.requireUnsealed();
    const sealVersion = unsealed.currentVersion;
    const sealed = sealWithAad(this.sealingKey(unsealed, sealVersion), systemSecretAad(unsealed.keychainId, name, sealVersion), secret);
    this.store.directory.putSystemSecret({ name, sealed, sealVersion, createdAt: isoNow(this.clock) });
  }

  /** Opens an appliance secret; null when absent. The caller zeroes the Buffer. */
  getSystemSecret(name: string): Buffer | null {
    const unsealed = this.requireUnsealed();
    const record = this.store.directory.getSystemSecret(name);
    if (!record) return null;
    return openWithAad(this.sealingKey(unsealed, record.sealVersion), systemSecretAad(unsealed.keychainId, name, record.sealVersion), record.sealed, (why, cause) =>
      new KeychainError('INTEGRITY_FAILURE', `system secret ${name} failed authentication (${why})`, { cause }),
    );
  }

  private async unwrap(hsm: HsmPort, unsealSecret?: Uint8Array): Promise<void> {
    const sealCountAtStart = this.sealCount;
    const unwrapped = await unwrapKeychainKey(this.store, hsm, unsealSecret);
    const current = unwrapped.keys.get(unwrapped.currentVersion) as Buffer;
    const macKey = deriveRowMacKey(current);
    const trust = deriveTrustKeys(unwrapped.keychainId, current);
    const discard = (): void => {
      for (const key of unwrapped.keys.values()) wipe(key);
      wipe(macKey);
      wipeTrustKeys(trust);
    };
    try {
      // A database whose authorisation state is not what the appliance last wrote stays sealed.
      await this.checkAtUnseal(trust, hsm);
    } catch (err) {
      discard();
      throw err;
    }
    if (this.sealCount !== sealCountAtStart) {
      discard();
      throw new KeychainError('SEALED', 'the keychain was sealed while it was being unsealed');
    }
    this.unsealed = { ...unwrapped, macKey, trust };
  }
}

function systemSecretAad(keychainId: string, name: string, sealVersion: number): Buffer {
  return encodeFields(['strongroom/system-secret/v1', keychainId, name, sealVersion]);
}
