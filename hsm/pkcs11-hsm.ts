/**
 * The HsmPort over PKCS#11 (v2.40) through pkcs11js: SoftHSM2 in tests, a
 * real HSM in production. See hsm/hsm-port.ts for the contract.
 *
 * One R/W serial session per port, logged in as CKU_USER. A PKCS#11 session
 * runs one operation at a time (C_SignInit then C_Sign, C_FindObjectsInit ..
 * Final), so every call is queued on the port. The slow calls (C_GenerateKey,
 * C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_Sign) use pkcs11js's *Async
 * forms, which run on a libuv worker thread so that a network HSM never
 * blocks the event loop; they proved reliable with CKF_OS_LOCKING_OK. Quick
 * metadata calls (find, attributes, create/destroy a session object) stay
 * synchronous.
 *
 * Keys are resolved by label through hsm/pkcs11-key-checks.ts, which refuses
 * duplicates and objects Strongroom would not have created. A failed sign
 * replaces the session (see signDigest) so that no operation stays active.
 *
 * SoftHSM2 reads SOFTHSM2_CONF at C_Initialize: set it before the first open.
 */
import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { HsmError } from '../common/errors';
import { HsmPort, MASTER_KEY_LABEL_PREFIX, masterKeyLabel, SIGNING_KEY_LABEL, TokenInfo, WrappedKey } from './hsm-port';
import { assertDigest, assertKeyBytes, assertVersion, assertWrapped, MAX_MASTER_KEY_VERSION } from './hsm-arguments';
import { hsmError, isUnwrapRejection } from './pkcs11-errors';
import { acquireModule, ModuleLease, Pkcs11Factory, safely } from './pkcs11-module';
import { openTokenSession, reopenTokenSession, TokenSession } from './pkcs11-session';
import { findAllByLabel, refusedObject, resolveMasterKey, resolveSigningPair, SigningPair } from './pkcs11-key-checks';
import { SIGNING_KEY_ID_BYTES, anchorTemplate, ecPointToPem, findObjects, importTemplate, masterKeyTemplate, readAttribute, signingPrivateTemplate, signingPublicTemplate, unwrapTemplate } from './pkcs11-objects';

export interface Pkcs11HsmOptions {
  /** Path of the PKCS#11 module (.so), the `hsm_module` setting. */
  readonly modulePath: string;
  /** Label of the token to use; slots are searched, never assumed. */
  readonly tokenLabel: string;
  /** The user PIN; used for C_Login and not kept. The caller owns and zeroes it. */
  readonly pin: Buffer;
  /**
   * Master-key versions the operator imported on purpose (the
   * `hsm_imported_master_keys` setting; docs/backup.md §6): accepted without
   * CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE (hsm/pkcs11-key-checks.ts).
   */
  readonly importedMasterKeyVersions?: readonly number[];
}

/** Test seam: replaces the pkcs11js binding (e.g. to make a token answer CKR_PIN_LOCKED). */
export interface Pkcs11HsmInternals {
  readonly pkcs11Factory?: Pkcs11Factory;
}

/** AES-KWP adds at most 7 bytes of padding and an 8-byte integrity block. */
const KWP_OVERHEAD_BYTES = 16;
/** A P-256 signature as r||s. */
const P256_SIGNATURE_BYTES = 64;
/**
 * Output buffer given to C_Sign: room for the largest raw ECDSA signature
 * (P-521, 2 x 66 bytes), so that a token never answers CKR_BUFFER_TOO_SMALL,
 * the one failure that leaves the sign operation active (PKCS#11 v2.40 §5.2).
 */
const SIGN_OUTPUT_BYTES = 132;

/** Opens the token labelled `tokenLabel` in `modulePath` and logs in. */
export async function openPkcs11Hsm(options: Pkcs11HsmOptions, internals: Pkcs11HsmInternals = {}): Promise<HsmPort> {
  const lease = acquireModule(options.modulePath, internals.pkcs11Factory);
  try {
    const token = openTokenSession(lease, options.tokenLabel, options.pin);
    return new Pkcs11Hsm(lease, token, new Set(options.importedMasterKeyVersions ?? []));
  } catch (err) {
    lease.release();
    throw err;
  }
}

export class Pkcs11Hsm implements HsmPort {
  private readonly pkcs11: pkcs11js.PKCS11;
  /** The current session; replaced (reopenTokenSession) after a failed sign. */
  private session: Buffer;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly lease: ModuleLease,
    private readonly token: TokenSession,
    private readonly importedMasterKeys: ReadonlySet<number> = new Set(),
  ) {
    this.pkcs11 = lease.pkcs11;
    this.session = token.session;
  }

  async tokenInfo(): Promise<TokenInfo> {
    return this.run('C_GetTokenInfo', async () => {
      const info = this.pkcs11.C_GetTokenInfo(this.token.slot);
      return {
        label: info.label.trim(),
        serialNumber: info.serialNumber.trim(),
        manufacturer: info.manufacturerID.trim(),
        model: info.model.trim(),
      };
    });
  }

  async listMasterKeyVersions(): Promise<number[]> {
    return this.run('list master keys', async () => {
      const handles = findObjects(this.pkcs11, this.session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }]);
      const versions = new Set<number>();
      for (const handle of handles) {
        const label = readAttribute(this.pkcs11, this.session, handle, pkcs11js.CKA_LABEL).toString('utf8');
        const version = parseMasterKeyLabel(label);
        if (version !== null) versions.add(version);
      }
      return [...versions].sort((a, b) => a - b);
    });
  }

  async generateMasterKey(version: number): Promise<void> {
    assertVersion(version);
    return this.run('C_GenerateKey', async () => {
      this.requireMechanism(pkcs11js.CKM_AES_KEY_GEN, 'CKM_AES_KEY_GEN');
      const label = masterKeyLabel(version);
      if (findAllByLabel(this.pkcs11, this.session, label).length > 0) {
        throw new HsmError('HSM_ERROR', `master key version ${version} already exists in the token; it is never replaced`, {
          details: { version },
        });
      }
      const created = await this.pkcs11.C_GenerateKeyAsync(
        this.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, masterKeyTemplate(version),
      );
      // The check above and the generation are not atomic: another process
      // (or port) may have created the same version meanwhile. Look again.
      if (findAllByLabel(this.pkcs11, this.session, label).length > 1) {
        safely(() => this.pkcs11.C_DestroyObject(this.session, created));
        throw new HsmError('HSM_ERROR', `another process created master key v${version} at the same time; retry`, {
          details: { label, reason: 'concurrent-create', version },
        });
      }
    });
  }

  async destroyMasterKey(version: number): Promise<void> {
    assertVersion(version);
    return this.run('C_DestroyObject', async () => {
      // Resolved and checked like any use: a planted or duplicated object is refused, not destroyed.
      const handle = this.requireMasterKey(version);
      this.pkcs11.C_DestroyObject(this.session, handle);
    });
  }

  async wrapKey(masterKeyVersion: number, keyBytes: Buffer): Promise<WrappedKey> {
    assertVersion(masterKeyVersion);
    assertKeyBytes(keyBytes);
    return this.run('C_WrapKey', async () => {
      this.requireMechanism(pkcs11js.CKM_AES_KEY_WRAP_PAD, 'CKM_AES_KEY_WRAP_PAD');
      const masterKey = this.requireMasterKey(masterKeyVersion);
      const transient = this.pkcs11.C_CreateObject(this.session, importTemplate(keyBytes));
      try {
        const out = Buffer.alloc(keyBytes.length + KWP_OVERHEAD_BYTES);
        const wrapped = await this.pkcs11.C_WrapKeyAsync(this.session, kwp(), masterKey, transient, out);
        return { mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion, wrapped: Buffer.from(wrapped) };
      } finally {
        safely(() => this.pkcs11.C_DestroyObject(this.session, transient));
      }
    });
  }

  async unwrapKey(wrapped: WrappedKey): Promise<Buffer> {
    assertWrapped(wrapped);
    return this.run('C_UnwrapKey', async () => {
      this.requireMechanism(pkcs11js.CKM_AES_KEY_WRAP_PAD, 'CKM_AES_KEY_WRAP_PAD');
      const masterKey = this.requireMasterKey(wrapped.masterKeyVersion);
      let transient: Buffer;
      try {
        transient = await this.pkcs11.C_UnwrapKeyAsync(this.session, kwp(), masterKey, wrapped.wrapped, unwrapTemplate());
      } catch (err) {
        if (!isUnwrapRejection(err, this.token.manufacturer)) throw err;
        throw new HsmError(
          'MASTER_KEY_MISMATCH',
          `master key version ${wrapped.masterKeyVersion} of this token does not open the wrapped key`,
          { cause: err, details: { version: wrapped.masterKeyVersion } },
        );
      }
      try {
        // pkcs11js returns the value in a Buffer of its own: the caller's to zero.
        return readAttribute(this.pkcs11, this.session, transient, pkcs11js.CKA_VALUE);
      } finally {
        safely(() => this.pkcs11.C_DestroyObject(this.session, transient));
      }
    });
  }

  async ensureSigningKey(): Promise<string> {
    return this.run('C_GenerateKeyPair', async () => {
      const existing = resolveSigningPair(this.pkcs11, this.session);
      if (existing !== null) return this.publicPem(existing.publicKey);
      this.requireMechanism(pkcs11js.CKM_EC_KEY_PAIR_GEN, 'CKM_EC_KEY_PAIR_GEN');
      const id = randomBytes(SIGNING_KEY_ID_BYTES);
      const pair = await this.pkcs11.C_GenerateKeyPairAsync(
        this.session, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN }, signingPublicTemplate(id), signingPrivateTemplate(id),
      );
      // As for master keys: another process may have generated a pair meanwhile.
      const privates = findObjects(this.pkcs11, this.session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_LABEL, value: SIGNING_KEY_LABEL },
      ]);
      if (privates.length > 1) {
        safely(() => this.pkcs11.C_DestroyObject(this.session, pair.privateKey));
        safely(() => this.pkcs11.C_DestroyObject(this.session, pair.publicKey));
        throw refusedObject(SIGNING_KEY_LABEL, 'concurrent-create', 'was created by another process at the same time; retry');
      }
      return this.publicPem(pair.publicKey);
    });
  }

  async signingPublicKey(): Promise<string> {
    return this.run('read signing key', async () => {
      return this.publicPem(this.requireSigningPair().publicKey);
    });
  }

  async signDigest(digest: Buffer): Promise<Buffer> {
    assertDigest(digest);
    return this.run('C_Sign', async () => {
      // Raw CKM_ECDSA over the digest: SoftHSM2 has no CKM_ECDSA_SHA256, and
      // hashing inside the token would need the data, which we never send.
      this.requireMechanism(pkcs11js.CKM_ECDSA, 'CKM_ECDSA');
      const { privateKey } = this.requireSigningPair();
      let signature: Buffer;
      try {
        this.pkcs11.C_SignInit(this.session, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
        signature = Buffer.from(await this.pkcs11.C_SignAsync(this.session, digest, Buffer.alloc(SIGN_OUTPUT_BYTES)));
      } catch (err) {
        // Whatever failed (C_SignInit included: CKR_OPERATION_ACTIVE), a sign
        // operation may still be active on this session; a fresh session is
        // the portable way to end it. The original error is the one reported.
        try {
          this.session = reopenTokenSession(this.pkcs11, this.token, this.session);
        } catch {
          // keep the old session: the next sign tries again
        }
        throw err;
      }
      if (signature.length !== P256_SIGNATURE_BYTES) {
        throw new HsmError('HSM_ERROR', `the token returned a ${signature.length}-byte signature; a P-256 one is ${P256_SIGNATURE_BYTES}`, {
          details: { length: signature.length },
        });
      }
      return signature;
    });
  }

  async readAnchors(label: string): Promise<Buffer[]> {
    return this.run('read anchor', async () =>
      this.anchorHandles(label).map((handle) => Buffer.from(readAttribute(this.pkcs11, this.session, handle, pkcs11js.CKA_VALUE))),
    );
  }

  async writeAnchor(label: string, value: Buffer): Promise<void> {
    return this.run('write anchor', async () => {
      const replaced = this.anchorHandles(label);
      this.pkcs11.C_CreateObject(this.session, anchorTemplate(label, value));
      for (const handle of replaced) this.pkcs11.C_DestroyObject(this.session, handle);
    });
  }

  private anchorHandles(label: string): Buffer[] {
    return findObjects(this.pkcs11, this.session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    const lastLogin = this.lease.releaseLogin(this.token.slot);
    if (lastLogin) safely(() => this.pkcs11.C_Logout(this.session));
    safely(() => this.pkcs11.C_CloseSession(this.session));
    this.lease.release();
  }

  /** Runs `body` after every earlier call on this port, mapping stray CKR_* to HSM_ERROR. */
  private run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new HsmError('HSM_ERROR', 'the HSM port is closed'));
    const result = this.queue.then(async () => {
      try {
        return await body();
      } catch (err) {
        throw hsmError(err, operation);
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private requireMechanism(mechanism: number, name: string): void {
    if (!this.token.mechanisms.has(mechanism)) {
      throw new HsmError('HSM_MECHANISM_UNSUPPORTED', `the token '${this.token.label}' lacks ${name}`, {
        details: { mechanism: name },
      });
    }
  }

  /** Master key `version`, resolved and checked (hsm/pkcs11-key-checks.ts). */
  private requireMasterKey(version: number): Buffer {
    return resolveMasterKey(this.pkcs11, this.session, version, this.token.label, this.importedMasterKeys.has(version));
  }

  /** The signing key pair, resolved and checked; HSM_SIGNING_KEY_MISSING when absent. */
  private requireSigningPair(): SigningPair {
    const pair = resolveSigningPair(this.pkcs11, this.session);
    if (pair === null) throw signingKeyMissing();
    return pair;
  }

  /** The public key's SPKI PEM; P-256 as checked by resolveSigningPair, or as just generated. */
  private publicPem(publicKey: Buffer): string {
    return ecPointToPem(readAttribute(this.pkcs11, this.session, publicKey, pkcs11js.CKA_EC_POINT));
  }
}

function kwp(): pkcs11js.Mechanism {
  return { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };
}

function signingKeyMissing(): HsmError {
  return new HsmError('HSM_SIGNING_KEY_MISSING', `the signing key '${SIGNING_KEY_LABEL}' is not in the token`);
}

/** `strongroom-master-v12` -> 12; anything else -> null. */
export function parseMasterKeyLabel(label: string): number | null {
  if (!label.startsWith(MASTER_KEY_LABEL_PREFIX)) return null;
  const digits = label.slice(MASTER_KEY_LABEL_PREFIX.length);
  if (!/^[1-9][0-9]{0,9}$/.test(digits)) return null;
  const version = Number(digits);
  return version <= MAX_MASTER_KEY_VERSION ? version : null;
}
