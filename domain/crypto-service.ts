/**
 * Cryptographic operations on the server's keys, so applications never hold
 * the key: Encrypt / Decrypt (AES-GCM with the key's current instance; the
 * ciphertext names its instance), envelope encryption (GenerateDataKey /
 * DecryptDataKey) and MAC / MACVerify for HMAC keys.
 *
 * Each operation checks the key's usage mask and the instance's state first
 * (a Deactivated instance decrypts but never encrypts), then opens the
 * material through Keychain.useMaterial, which zeroes it afterwards.
 * Ciphertext AADs bind the key, the instance and the caller's AAD under a
 * domain label, so a data key blob is never a valid Decrypt input. Every
 * seal under an instance's material (a random IV each) is counted against
 * that instance's GCM invocation limit first (domain/gcm-invocations.ts).
 *
 * Encrypt and Decrypt also have raw modes (domain/raw-ciphers.ts: AES-GCM,
 * AES-CBC-PKCS5, ChaCha20-Poly1305, AES-ECB, ChaCha20) for clients with
 * their own format (KMIP): the same rules (crypto-rules.ts), the same
 * material handling, and every nonce-mode seal (GCM, ChaCha20 with or
 * without Poly1305) counted against the same budget as the envelope's, so
 * one key's count is one count whichever wire or mode used it.
 */
import { CipherGCM, createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { KeychainError, ValidationError } from '../common/errors';
import { encodeFields } from './field-encoding';
import { decodeEnvelope, encodeEnvelope, TAG_BYTES } from './envelope-format';
import { GcmInvocations } from './gcm-invocations';
import { IvPool } from './iv-pool';
import { KeyBytePool } from './key-byte-pool';
import { UsageBudgets } from './usage-limits';
import { InstanceView } from './view-types';
import { Clock, systemClock } from '../common/clock';
import { Keychain, KeyRef, MaterialIds } from './keychain';
import { UsageName } from './usage-mask';
import { checkSize, requireFamily, requireState, requireUsage } from './crypto-rules';
import { aeadCipher, checkRawOptions, generatedIvBytes, isNonceMode, modeAlgorithms, rawOpen, rawSeal, RawMode, RawSealed } from './raw-ciphers';

/** Largest plaintext Encrypt takes: it is for keys and records, not files (use GenerateDataKey). */
export const MAX_PLAINTEXT_BYTES = 64 * 1024;
export const MAX_AAD_BYTES = 4096;

type Domain = 'encrypt' | 'data-key';

const GCM_BY_ALGORITHM: Readonly<Record<string, string>> = {
  'AES-128': 'aes-128-gcm',
  'AES-192': 'aes-192-gcm',
  'AES-256': 'aes-256-gcm',
};
const HMAC_BY_ALGORITHM: Readonly<Record<string, string>> = { 'HMAC-SHA256': 'sha256', 'HMAC-SHA512': 'sha512' };

const PLAINTEXT_ADVICE = 'Encrypt is for keys and records: encrypt larger data locally under a data key (GenerateDataKey)';

/** How a protect operation checks the key's algorithm, and whether it counts as an AEAD invocation. */
interface ProtectHow {
  readonly table: Readonly<Record<string, string>>;
  readonly what: string;
  readonly counted: boolean;
}
const ENVELOPE: ProtectHow = { table: GCM_BY_ALGORITHM, what: 'encryption', counted: true };

export interface CryptoResult {
  readonly instance: string;
}

/** A key by name (its current instance) or a reference to one instance. */
type KeyTarget = string | KeyRef;
const refOf = (target: KeyTarget): KeyRef => (typeof target === 'string' ? { fullName: target } : target);

export interface RawEncryptOptions {
  /** The caller's own IV; absent: the appliance draws one (and answers it). */
  readonly iv?: Buffer;
  readonly aad?: Buffer;
  readonly tagLength?: number;
  /** CHACHA20 only: the first block's counter (default 0). */
  readonly initialCounter?: number;
}

export interface RawDecryptOptions {
  /** Every mode but ECB needs it. */
  readonly iv?: Buffer;
  readonly tag?: Buffer;
  readonly aad?: Buffer;
  readonly initialCounter?: number;
}

function aadFor(domain: Domain, ids: MaterialIds, callerAad: Buffer | undefined): Buffer {
  return encodeFields([`strongroom/${domain}/v1`, ids.keychainId, ids.keyId, ids.instanceId, callerAad ? callerAad.toString('base64') : null]);
}

function seal(domain: Domain, material: Buffer, ids: MaterialIds, plaintext: Buffer, callerAad: Buffer | undefined, iv: Buffer): Buffer {
  const cipher = createCipheriv(GCM_BY_ALGORITHM[ids.algorithm] as 'aes-256-gcm', material, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadFor(domain, ids, callerAad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return encodeEnvelope({ instanceName: ids.instanceName, iv, body, tag: cipher.getAuthTag() });
}

function open(domain: Domain, material: Buffer, ids: MaterialIds, envelope: ReturnType<typeof decodeEnvelope>, callerAad: Buffer | undefined): Buffer {
  const decipher = createDecipheriv(GCM_BY_ALGORITHM[ids.algorithm] as 'aes-256-gcm', material, envelope.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadFor(domain, ids, callerAad));
  decipher.setAuthTag(envelope.tag);
  const plain = decipher.update(envelope.body);
  try {
    return Buffer.concat([plain, decipher.final()]);
  } catch (cause) {
    throw new KeychainError('INTEGRITY_FAILURE', 'the ciphertext failed authentication: wrong key, wrong aad, or altered', { cause });
  } finally {
    plain.fill(0);
  }
}

export class CryptoService {
  private readonly ivs = new IvPool();
  /** GenerateDataKey's keys, drawn in blocks; the undrawn bytes are zeroed when the keychain seals. */
  private readonly dataKeys = new KeyBytePool();

  /**
   * `invocations`: the per-instance GCM invocation budget; `usage`: the
   * usage limits creators set (domain/usage-limits.ts). Null: uncounted, for
   * unit tests of other rules.
   */
  constructor(
    private readonly keychain: Keychain,
    private readonly clock: Clock = systemClock,
    private readonly invocations: GcmInvocations | null = null,
    private readonly usage: UsageBudgets | null = null,
  ) {
    keychain.onSeal(() => this.dataKeys.wipe());
  }

  /** The pool GenerateDataKey draws its keys from (tests check that a seal zeroes it). */
  get dataKeyPool(): KeyBytePool {
    return this.dataKeys;
  }

  /** The usage budget of an instance that has one, as it stands (GetAttributes); undefined for one without. */
  usageOf(instance: InstanceView): ReturnType<UsageBudgets['state']> | undefined {
    return instance.usageLimit === undefined || this.usage === null ? undefined : this.usage.state(instance.name, instance.usageLimit);
  }

  /** Spends `bytes` of the instance's usage limit, if it has one: the last check before the work (USAGE_LIMIT_REACHED). */
  private spend(instance: InstanceView, bytes: number): void {
    this.usage?.spend(instance.name, instance.usageLimit, bytes);
  }

  /** Under the key's current instance, or the one instance `target` names. */
  encrypt(target: KeyTarget, plaintext: Buffer, aad?: Buffer): CryptoResult & { ciphertext: Buffer } {
    checkSize('plaintext', plaintext, MAX_PLAINTEXT_BYTES, PLAINTEXT_ADVICE);
    checkSize('aad', aad, MAX_AAD_BYTES);
    return this.protect(refOf(target), 'encrypt', (material, ids) => ({ instance: ids.instanceName, ciphertext: seal('encrypt', material, ids, plaintext, aad, this.ivs.next()) }), ENVELOPE, plaintext.length);
  }

  /** The ciphertext names its instance; a `target` naming another is refused. The plaintext Buffer belongs to the caller, who zeroes it. */
  decrypt(target: KeyTarget, ciphertext: Buffer, aad?: Buffer): CryptoResult & { plaintext: Buffer } {
    checkSize('aad', aad, MAX_AAD_BYTES);
    const envelope = decodeEnvelope(ciphertext);
    const ref = refOf(target);
    if (ref.instance !== undefined && ref.instance !== envelope.instanceName) {
      throw new ValidationError(`the ciphertext was made by instance ${envelope.instanceName}, not ${ref.instance}`);
    }
    return this.process(ref.fullName, envelope.instanceName, 'decrypt', ciphertext.length, (material, ids) => ({
      instance: ids.instanceName,
      plaintext: open('encrypt', material, ids, envelope, aad),
    }));
  }

  /**
   * A raw-mode encryption (domain/raw-ciphers.ts) under the current instance
   * or the one named. The IV is the caller's or drawn here (12 random bytes
   * for the nonce modes, 16 for CBC, none for ECB) and answered either way;
   * a nonce-mode seal counts against the instance's invocation budget
   * whoever chose the IV.
   */
  encryptRaw(target: KeyTarget, mode: RawMode, plaintext: Buffer, options: RawEncryptOptions = {}): CryptoResult & RawSealed {
    checkSize('plaintext', plaintext, MAX_PLAINTEXT_BYTES, PLAINTEXT_ADVICE);
    checkSize('aad', options.aad, MAX_AAD_BYTES);
    checkRawOptions(mode, { ...options, data: plaintext });
    return this.protect(
      refOf(target),
      'encrypt',
      (material, ids) => {
        const iv = options.iv ?? this.drawIv(mode);
        return { instance: ids.instanceName, ...rawSeal(mode, ids.algorithm, material, plaintext, iv, options) };
      },
      { table: modeAlgorithms(mode), what: `${mode} encryption`, counted: isNonceMode(mode) },
      plaintext.length,
    );
  }

  /**
   * Starts a streamed AES-GCM encryption (domain/gcm-streams.ts) with its
   * first part: the checks, usage limit and invocation count of any AES-GCM
   * encryption (one stream is one invocation, whoever chose the IV). The
   * cipher is the caller's to hold until the final part.
   */
  startGcmStream(target: KeyTarget, plaintext: Buffer, options: RawEncryptOptions = {}): CryptoResult & { ciphertext: Buffer; iv: Buffer; cipher: CipherGCM } {
    checkSize('plaintext', plaintext, MAX_PLAINTEXT_BYTES, PLAINTEXT_ADVICE);
    checkSize('aad', options.aad, MAX_AAD_BYTES);
    checkRawOptions('AES-GCM', { ...options, data: plaintext });
    return this.protect(
      refOf(target),
      'encrypt',
      (material, ids) => {
        const iv = options.iv ?? this.ivs.next();
        const cipher = aeadCipher('AES-GCM', ids.algorithm, material, iv, options);
        return { instance: ids.instanceName, iv, cipher, ciphertext: cipher.update(plaintext) };
      },
      { table: modeAlgorithms('AES-GCM'), what: 'AES-GCM encryption', counted: true },
      plaintext.length,
    );
  }

  /** A later part of a stream: the checks of an encryption under its instance again (it may have been revoked since), its bytes spent. */
  checkGcmStreamPart(instanceName: string, plaintext: Buffer): void {
    checkSize('plaintext', plaintext, MAX_PLAINTEXT_BYTES, PLAINTEXT_ADVICE);
    this.keychain.useMaterial(
      { instance: instanceName },
      (key, instance) => {
        requireFamily(key, modeAlgorithms('AES-GCM'), 'AES-GCM encryption');
        requireUsage(key, 'encrypt');
        requireState(instance, 'protect', this.clock.nowMs());
        this.spend(instance, plaintext.length);
      },
      () => undefined,
    );
  }

  /** A raw-mode decryption; the plaintext Buffer belongs to the caller, who zeroes it. */
  decryptRaw(target: KeyTarget, mode: RawMode, ciphertext: Buffer, options: RawDecryptOptions): CryptoResult & { plaintext: Buffer } {
    checkSize('ciphertext', ciphertext, MAX_PLAINTEXT_BYTES + 16);
    checkSize('aad', options.aad, MAX_AAD_BYTES);
    checkRawOptions(mode, { ...options, data: ciphertext });
    if (options.iv === undefined && generatedIvBytes(mode) > 0) throw new ValidationError(`${mode} decryption needs the iv the encryption used`);
    const ref = refOf(target);
    return this.keychain.useMaterial(
      ref,
      (key, instance) => {
        requireFamily(key, modeAlgorithms(mode), `${mode} decryption`);
        requireUsage(key, 'decrypt');
        requireState(instance, 'process', this.clock.nowMs());
        this.spend(instance, ciphertext.length);
      },
      (material, ids) => ({ instance: ids.instanceName, plaintext: rawOpen(mode, ids.algorithm, material, ciphertext, options.iv, options.tag, options.aad, options.initialCounter) }),
    );
  }

  /** A fresh data key in the clear (the caller zeroes it) and the same key wrapped under `fullName`. */
  generateDataKey(fullName: string, bits: 128 | 256, aad?: Buffer): CryptoResult & { plaintext: Buffer; wrapped: Buffer } {
    checkSize('aad', aad, MAX_AAD_BYTES);
    const dataKey = this.dataKeys.draw(bits / 8);
    try {
      return this.protect({ fullName }, 'encrypt', (material, ids) => ({
        instance: ids.instanceName,
        wrapped: seal('data-key', material, ids, dataKey, aad, this.ivs.next()),
        plaintext: Buffer.from(dataKey),
      }), ENVELOPE, dataKey.length);
    } finally {
      dataKey.fill(0);
    }
  }

  decryptDataKey(fullName: string, wrapped: Buffer, aad?: Buffer): CryptoResult & { plaintext: Buffer } {
    checkSize('aad', aad, MAX_AAD_BYTES);
    const envelope = decodeEnvelope(wrapped);
    return this.process(fullName, envelope.instanceName, 'decrypt', wrapped.length, (material, ids) => ({
      instance: ids.instanceName,
      plaintext: open('data-key', material, ids, envelope, aad),
    }));
  }

  /** `algorithm`, when given, must be the key's (a caller that names its MAC algorithm is refused another). */
  mac(target: KeyTarget, data: Buffer, algorithm?: string): CryptoResult & { mac: Buffer } {
    checkSize('data', data, MAX_PLAINTEXT_BYTES);
    return this.keychain.useMaterial(
      refOf(target),
      (key, instance) => {
        requireFamily(key, algorithm === undefined ? HMAC_BY_ALGORITHM : { [algorithm]: HMAC_BY_ALGORITHM[algorithm] }, 'MAC');
        requireUsage(key, 'mac-generate');
        requireState(instance, 'protect', this.clock.nowMs());
        this.spend(instance, data.length);
      },
      (material, ids) => ({ instance: ids.instanceName, mac: createHmac(HMAC_BY_ALGORITHM[ids.algorithm], material).update(data).digest() }),
    );
  }

  macVerify(target: KeyTarget, data: Buffer, mac: Buffer, algorithm?: string): { valid: boolean; instance: string } {
    checkSize('data', data, MAX_PLAINTEXT_BYTES);
    return this.keychain.useMaterial(
      refOf(target),
      (key, inst) => {
        requireFamily(key, algorithm === undefined ? HMAC_BY_ALGORITHM : { [algorithm]: HMAC_BY_ALGORITHM[algorithm] }, 'MAC verification');
        requireUsage(key, 'mac-verify');
        requireState(inst, 'process', this.clock.nowMs());
        this.spend(inst, data.length);
      },
      (material, ids) => {
        const expected = createHmac(HMAC_BY_ALGORITHM[ids.algorithm], material).update(data).digest();
        return { instance: ids.instanceName, valid: expected.length === mac.length && timingSafeEqual(expected, mac) };
      },
    );
  }

  /** `length` bytes from the CSPRNG, for RandomBytes (the wire bounds `length`). */
  randomBytes(length: number): Buffer {
    return randomFillSync(Buffer.alloc(length));
  }

  /**
   * A seal under the referenced instance's material (the current one when
   * none is named): allowed, `bytes` spent from its usage limit, then
   * counted when it is an AEAD invocation (INVOCATION_LIMIT_REACHED past
   * the limit), then done.
   */
  private protect<T>(ref: KeyRef, usage: UsageName, seal: (material: Buffer, ids: MaterialIds) => T, how: ProtectHow, bytes: number): T {
    return this.keychain.useMaterial(
      ref,
      (key, instance) => {
        requireFamily(key, how.table, how.what);
        requireUsage(key, usage);
        requireState(instance, 'protect', this.clock.nowMs());
        this.spend(instance, bytes);
      },
      (material, ids) => {
        if (how.counted) this.invocations?.take(ids.instanceId, ids.instanceName);
        return seal(material, ids);
      },
    );
  }

  /** A fresh IV for a raw mode: 96 bits from the pool for the nonce modes, 128 from the CSPRNG for CBC, none for ECB. */
  private drawIv(mode: RawMode): Buffer | undefined {
    const bytes = generatedIvBytes(mode);
    if (bytes === 0) return undefined;
    return bytes === 12 ? this.ivs.next() : randomFillSync(Buffer.alloc(bytes));
  }

  private process<T>(fullName: string | undefined, instanceName: string, usage: UsageName, bytes: number, use: (material: Buffer, ids: MaterialIds) => T): T {
    return this.keychain.useMaterial(
      { fullName, instance: instanceName },
      (key, instance) => {
        requireFamily(key, GCM_BY_ALGORITHM, 'decryption');
        requireUsage(key, usage);
        requireState(instance, 'process', this.clock.nowMs());
        this.spend(instance, bytes);
      },
      use,
    );
  }
}
