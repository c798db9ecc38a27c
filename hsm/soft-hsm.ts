/**
 * An in-memory HsmPort over node:crypto, for fast unit tests. It follows the
 * same contract (hsm/hsm-port.ts) and reports the same error codes as the
 * PKCS#11 port; both pass test/hsm/hsm-conformance.ts.
 *
 * Master keys wrap with AES-256 Key Wrap with Padding (RFC 5649) through
 * OpenSSL's `id-aes256-wrap-pad` and the RFC's default IV A65959A6, the same
 * algorithm as CKM_AES_KEY_WRAP_PAD, so its wrapped bytes are those a PKCS#11
 * token would produce with the same key. Signing is raw ECDSA P-256 over the
 * digest; see hsm/prehashed-ecdsa.ts for why that goes through openssl.
 *
 * Each instance is its own token: a second SoftHsm has other master keys,
 * so it answers MASTER_KEY_MISMATCH to the first one's wrapped bytes. For
 * tests that need a token to misbehave, `failNext` makes the next call fail
 * with a chosen code and `deleteMasterKey` removes a version.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { HsmError } from '../common/errors';
import type { ErrorCode } from '../common/error-codes';
import { wipe } from '../common/secret';
import { HsmPort, SIGNING_KEY_LABEL, TokenInfo, WrappedKey } from './hsm-port';
import { assertDigest, assertKeyBytes, assertVersion, assertWrapped } from './hsm-arguments';
import { signPrehashedP256 } from './prehashed-ecdsa';

/** OpenSSL's name for AES-256 Key Wrap with Padding (RFC 5649). */
const KWP_CIPHER = 'id-aes256-wrap-pad';
/** RFC 5649 §3: the alternative initial value, 0xA65959A6 (the length follows it inside the block). */
const KWP_DEFAULT_IV = 'A65959A6';
/** AES-256. */
const MASTER_KEY_BYTES = 32;
/** Length of a generated serial number, in bytes (16 hex characters, as PKCS#11's field). */
const SERIAL_BYTES = 8;

export interface SoftHsmOptions {
  readonly label?: string;
  readonly serialNumber?: string;
}

interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicPem: string;
}

export class SoftHsm implements HsmPort {
  private readonly label: string;
  private readonly serialNumber: string;
  private readonly masterKeys = new Map<number, Buffer>();
  private signingKey: SigningKey | null = null;
  private readonly anchors = new Map<string, Buffer>();
  private pendingFailure: ErrorCode | null = null;
  private closed = false;

  constructor(options: SoftHsmOptions = {}) {
    this.label = options.label ?? 'strongroom-soft';
    this.serialNumber = options.serialNumber ?? randomBytes(SERIAL_BYTES).toString('hex');
  }

  /** Makes the next port call fail with an HsmError of `code` (one shot). */
  failNext(code: ErrorCode): void {
    this.pendingFailure = code;
  }

  /** Removes master key `version`, as if the token had lost it. */
  deleteMasterKey(version: number): void {
    wipe(this.masterKeys.get(version));
    this.masterKeys.delete(version);
  }

  async tokenInfo(): Promise<TokenInfo> {
    this.enter();
    return { label: this.label, serialNumber: this.serialNumber, manufacturer: 'Strongroom', model: 'SoftHsm' };
  }

  async listMasterKeyVersions(): Promise<number[]> {
    this.enter();
    return [...this.masterKeys.keys()].sort((a, b) => a - b);
  }

  async generateMasterKey(version: number): Promise<void> {
    assertVersion(version);
    this.enter();
    if (this.masterKeys.has(version)) {
      throw new HsmError('HSM_ERROR', `master key version ${version} already exists in the token; it is never replaced`, {
        details: { version },
      });
    }
    this.masterKeys.set(version, randomBytes(MASTER_KEY_BYTES));
  }

  async destroyMasterKey(version: number): Promise<void> {
    assertVersion(version);
    this.enter();
    const key = this.masterKey(version);
    wipe(key);
    this.masterKeys.delete(version);
  }

  async wrapKey(masterKeyVersion: number, keyBytes: Buffer): Promise<WrappedKey> {
    assertVersion(masterKeyVersion);
    assertKeyBytes(keyBytes);
    this.enter();
    const cipher = createCipheriv(KWP_CIPHER, this.masterKey(masterKeyVersion), Buffer.from(KWP_DEFAULT_IV, 'hex'));
    const wrapped = Buffer.concat([cipher.update(keyBytes), cipher.final()]);
    return { mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion, wrapped };
  }

  async unwrapKey(wrapped: WrappedKey): Promise<Buffer> {
    assertWrapped(wrapped);
    this.enter();
    const key = this.masterKey(wrapped.masterKeyVersion);
    let head: Buffer | undefined;
    let tail: Buffer | undefined;
    try {
      const decipher = createDecipheriv(KWP_CIPHER, key, Buffer.from(KWP_DEFAULT_IV, 'hex'));
      head = decipher.update(wrapped.wrapped);
      tail = decipher.final();
      return Buffer.concat([head, tail]);
    } catch (err) {
      throw new HsmError(
        'MASTER_KEY_MISMATCH',
        `master key version ${wrapped.masterKeyVersion} of this token does not open the wrapped key`,
        { cause: err, details: { version: wrapped.masterKeyVersion } },
      );
    } finally {
      wipe(head, tail);
    }
  }

  async ensureSigningKey(): Promise<string> {
    this.enter();
    if (this.signingKey === null) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      this.signingKey = { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    }
    return this.signingKey.publicPem;
  }

  async signingPublicKey(): Promise<string> {
    this.enter();
    return this.requireSigningKey().publicPem;
  }

  async signDigest(digest: Buffer): Promise<Buffer> {
    assertDigest(digest);
    this.enter();
    return signPrehashedP256(this.requireSigningKey().privateKey, digest);
  }

  async readAnchors(label: string): Promise<Buffer[]> {
    this.enter();
    const value = this.anchors.get(label);
    return value === undefined ? [] : [Buffer.from(value)];
  }

  async writeAnchor(label: string, value: Buffer): Promise<void> {
    this.enter();
    this.anchors.set(label, Buffer.from(value));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const key of this.masterKeys.values()) wipe(key);
    this.masterKeys.clear();
    this.signingKey = null;
  }

  /** Every call starts here: refuses a closed port and fires an injected failure. */
  private enter(): void {
    if (this.closed) throw new HsmError('HSM_ERROR', 'the HSM port is closed');
    const failure = this.pendingFailure;
    if (failure !== null) {
      this.pendingFailure = null;
      throw new HsmError(failure, `simulated failure (${failure})`);
    }
  }

  private masterKey(version: number): Buffer {
    const key = this.masterKeys.get(version);
    if (key === undefined) {
      throw new HsmError('HSM_MASTER_KEY_MISSING', `master key version ${version} is not in the token '${this.label}'`, {
        details: { version },
      });
    }
    return key;
  }

  private requireSigningKey(): SigningKey {
    if (this.signingKey === null) {
      throw new HsmError('HSM_SIGNING_KEY_MISSING', `the signing key '${SIGNING_KEY_LABEL}' is not in the token`);
    }
    return this.signingKey;
  }
}
