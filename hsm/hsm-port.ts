/**
 * The HSM port: everything Strongroom asks of a hardware security module.
 *
 * Two implementations share one conformance suite (test/hsm/hsm-conformance.ts):
 * the PKCS#11 one over pkcs11js (hsm/pkcs11-hsm.ts: SoftHSM2 in tests, a real
 * HSM in production) and a soft in-memory one for fast unit tests
 * (hsm/soft-hsm.ts).
 *
 * The HSM holds two kinds of objects:
 * - master keys: AES-256, token objects, sensitive and never extractable,
 *   labelled `strongroom-master-v<version>`. They only wrap and unwrap the
 *   keychain key; the raw master key never leaves the token.
 * - one signing key pair: EC P-256, labelled `strongroom-signing`, for audit
 *   checkpoints and backup manifests.
 *
 * Objects are found by label and then checked: exactly one object per label,
 * of the right class, type, size or curve, sensitive and never extractable.
 * A planted or duplicated object is refused with HSM_ERROR (details.reason)
 * rather than used.
 *
 * The HSM is touched at unseal, master-key work and signing: never once per
 * key request. Methods are async so that a network HSM never blocks the event
 * loop.
 */

export interface TokenInfo {
  readonly label: string;
  readonly serialNumber: string;
  readonly manufacturer: string;
  readonly model: string;
}

/** The name of a key-wrapping mechanism, recorded beside each wrapped key. */
export type WrapMechanism = 'AES_KEY_WRAP_PAD';

export interface WrappedKey {
  readonly mechanism: WrapMechanism;
  readonly masterKeyVersion: number;
  readonly wrapped: Buffer;
}

export interface HsmPort {
  tokenInfo(): Promise<TokenInfo>;

  /** Versions of the master keys present in the token, ascending. */
  listMasterKeyVersions(): Promise<number[]>;

  /**
   * Creates master key `version` in the token (AES-256, CKA_TOKEN, sensitive,
   * not extractable, CKA_WRAP/CKA_UNWRAP only). Refuses with HSM_ERROR if that
   * version already exists: a master key is never silently replaced.
   */
  generateMasterKey(version: number): Promise<void>;

  /**
   * Destroys master key `version` in the token, for good: whatever it wraps
   * can never be unwrapped again. Master-key rotation calls it only for
   * versions that nothing in the keychain references any more.
   * HSM_MASTER_KEY_MISSING when that version is not in the token.
   */
  destroyMasterKey(version: number): Promise<void>;

  /**
   * Wraps `keyBytes` (16..64 bytes, a multiple of 8: SoftHSM2 pads other
   * lengths with zeros before RFC 5649 wrapping) under master
   * key `masterKeyVersion`. Does not zero or keep `keyBytes`.
   * Throws HSM_MASTER_KEY_MISSING when that version is not in the token.
   */
  wrapKey(masterKeyVersion: number, keyBytes: Buffer): Promise<WrappedKey>;

  /**
   * Unwraps what wrapKey produced and returns the key bytes in a fresh Buffer
   * that the caller must zero. Throws HSM_MASTER_KEY_MISSING when the version
   * is absent, MASTER_KEY_MISMATCH when the token's key of that version does
   * not open `wrapped` (another token, or altered bytes).
   */
  unwrapKey(wrapped: WrappedKey): Promise<Buffer>;

  /** Creates the EC P-256 signing key pair unless it exists; returns its public key as SPKI PEM. */
  ensureSigningKey(): Promise<string>;

  /** The signing public key as SPKI PEM; HSM_SIGNING_KEY_MISSING when absent. */
  signingPublicKey(): Promise<string>;

  /**
   * Signs a SHA-256 digest (32 bytes) with the signing key: raw ECDSA over the
   * digest, returned as IEEE P1363 r||s (64 bytes). Verify in Node with
   * `crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)`.
   */
  signDigest(digest: Buffer): Promise<Buffer>;

  /**
   * The values of the token's data objects labelled `label` (CKO_DATA,
   * private, on the token), none when there are none: where the appliance
   * keeps what must outlive a copy of its database file
   * (domain/trust/freshness-anchor.ts). Usually one; two after a write
   * interrupted between its steps.
   */
  readAnchors(label: string): Promise<Buffer[]>;

  /**
   * Stores `value` under `label`: creates a new data object, then destroys
   * the ones it replaces (tokens such as SoftHSM2 keep a data object's value
   * read-only, and in this order a crash leaves two, never none).
   */
  writeAnchor(label: string, value: Buffer): Promise<void>;

  /** Logs out and closes the session; the port is unusable afterwards. Idempotent. */
  close(): Promise<void>;
}

export const MASTER_KEY_LABEL_PREFIX = 'strongroom-master-v';
export const SIGNING_KEY_LABEL = 'strongroom-signing';

export function masterKeyLabel(version: number): string {
  return `${MASTER_KEY_LABEL_PREFIX}${version}`;
}
