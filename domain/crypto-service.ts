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
 */
import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { KeychainError, ValidationError } from '../common/errors';
import { encodeFields } from './field-encoding';
import { decodeEnvelope, encodeEnvelope, TAG_BYTES } from './envelope-format';
import { GcmInvocations } from './gcm-invocations';
import { IvPool } from './iv-pool';
import { mayProtect } from './usage-periods';
import { Clock, systemClock } from '../common/clock';
import { Keychain, MaterialIds } from './keychain';
import { InstanceView, KeyView } from './views';
import { USAGE_BITS, UsageName } from './usage-mask';

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

export interface CryptoResult {
  readonly instance: string;
}

function requireUsage(key: KeyView, usage: UsageName): void {
  if ((key.usageMask & USAGE_BITS[usage]) === 0) {
    throw new KeychainError('USAGE_NOT_PERMITTED', `${key.fullName} does not allow ${usage} (usage: ${key.usage.join(', ') || 'none'})`);
  }
}

function requireFamily(key: KeyView, table: Readonly<Record<string, string>>, what: string): string {
  const name = table[key.algorithm];
  if (!name) throw new KeychainError('USAGE_NOT_PERMITTED', `${key.fullName} is ${key.algorithm}; ${what} needs ${Object.keys(table).join(' or ')}`);
  return name;
}

/**
 * Protect (encrypt, MAC) needs an Active instance before its protect-stop
 * date; process (decrypt, verify) also takes Deactivated and Compromised.
 */
function requireState(instance: InstanceView, mode: 'protect' | 'process', nowMs: number): void {
  if (mode === 'process' && instance.processStopAt !== null && nowMs >= Date.parse(instance.processStopAt)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is past its process-stop date (${instance.processStopAt}): its recipient usage period is over`, {
      details: { instance: instance.name, processStopAt: instance.processStopAt },
    });
  }
  if (mode === 'protect' && instance.state === 'Active' && !mayProtect(instance, nowMs)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is past its protect-stop date (${instance.protectStopAt ?? instance.processStopAt}): it only decrypts now`, {
      details: { instance: instance.name, protectStopAt: instance.protectStopAt },
    });
  }
  const allowed = mode === 'protect' ? ['Active'] : ['Active', 'Deactivated', 'Compromised'];
  if (!allowed.includes(instance.state)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is ${instance.state}: it cannot ${mode === 'protect' ? 'encrypt or sign' : 'decrypt or verify'}`, {
      details: { instance: instance.name, state: instance.state },
    });
  }
}

function checkSize(name: string, value: Buffer | undefined, max: number, next?: string): void {
  if (value && value.length > max) throw new ValidationError(`${name} is larger than ${max} bytes${next ? `: ${next}` : ''}`);
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

  /** `invocations`: the per-instance GCM invocation budget (null: uncounted, for unit tests of other rules). */
  constructor(
    private readonly keychain: Keychain,
    private readonly clock: Clock = systemClock,
    private readonly invocations: GcmInvocations | null = null,
  ) {}

  encrypt(fullName: string, plaintext: Buffer, aad?: Buffer): CryptoResult & { ciphertext: Buffer } {
    checkSize('plaintext', plaintext, MAX_PLAINTEXT_BYTES, 'Encrypt is for keys and records: encrypt larger data locally under a data key (GenerateDataKey)');
    checkSize('aad', aad, MAX_AAD_BYTES);
    return this.protect(fullName, 'encrypt', (material, ids) => ({ instance: ids.instanceName, ciphertext: seal('encrypt', material, ids, plaintext, aad, this.ivs.next()) }));
  }

  /** The plaintext Buffer belongs to the caller, who zeroes it. */
  decrypt(fullName: string, ciphertext: Buffer, aad?: Buffer): CryptoResult & { plaintext: Buffer } {
    checkSize('aad', aad, MAX_AAD_BYTES);
    const envelope = decodeEnvelope(ciphertext);
    return this.process(fullName, envelope.instanceName, 'decrypt', (material, ids) => ({
      instance: ids.instanceName,
      plaintext: open('encrypt', material, ids, envelope, aad),
    }));
  }

  /** A fresh data key in the clear (the caller zeroes it) and the same key wrapped under `fullName`. */
  generateDataKey(fullName: string, bits: 128 | 256, aad?: Buffer): CryptoResult & { plaintext: Buffer; wrapped: Buffer } {
    checkSize('aad', aad, MAX_AAD_BYTES);
    const dataKey = randomFillSync(Buffer.alloc(bits / 8));
    try {
      return this.protect(fullName, 'encrypt', (material, ids) => ({
        instance: ids.instanceName,
        wrapped: seal('data-key', material, ids, dataKey, aad, this.ivs.next()),
        plaintext: Buffer.from(dataKey),
      }));
    } finally {
      dataKey.fill(0);
    }
  }

  decryptDataKey(fullName: string, wrapped: Buffer, aad?: Buffer): CryptoResult & { plaintext: Buffer } {
    checkSize('aad', aad, MAX_AAD_BYTES);
    const envelope = decodeEnvelope(wrapped);
    return this.process(fullName, envelope.instanceName, 'decrypt', (material, ids) => ({
      instance: ids.instanceName,
      plaintext: open('data-key', material, ids, envelope, aad),
    }));
  }

  mac(fullName: string, data: Buffer): CryptoResult & { mac: Buffer } {
    checkSize('data', data, MAX_PLAINTEXT_BYTES);
    return this.keychain.useMaterial(
      { fullName },
      (key, instance) => {
        requireFamily(key, HMAC_BY_ALGORITHM, 'MAC');
        requireUsage(key, 'mac-generate');
        requireState(instance, 'protect', this.clock.nowMs());
      },
      (material, ids) => ({ instance: ids.instanceName, mac: createHmac(HMAC_BY_ALGORITHM[ids.algorithm], material).update(data).digest() }),
    );
  }

  macVerify(fullName: string, data: Buffer, mac: Buffer, instance?: string): { valid: boolean; instance: string } {
    checkSize('data', data, MAX_PLAINTEXT_BYTES);
    return this.keychain.useMaterial(
      { fullName, instance },
      (key, inst) => {
        requireFamily(key, HMAC_BY_ALGORITHM, 'MAC verification');
        requireUsage(key, 'mac-verify');
        requireState(inst, 'process', this.clock.nowMs());
      },
      (material, ids) => {
        const expected = createHmac(HMAC_BY_ALGORITHM[ids.algorithm], material).update(data).digest();
        return { instance: ids.instanceName, valid: expected.length === mac.length && timingSafeEqual(expected, mac) };
      },
    );
  }

  /** A seal under the current instance's material: allowed, then counted (INVOCATION_LIMIT_REACHED past the limit), then done. */
  private protect<T>(fullName: string, usage: UsageName, seal: (material: Buffer, ids: MaterialIds) => T): T {
    return this.keychain.useMaterial(
      { fullName },
      (key, instance) => {
        requireFamily(key, GCM_BY_ALGORITHM, 'encryption');
        requireUsage(key, usage);
        requireState(instance, 'protect', this.clock.nowMs());
      },
      (material, ids) => {
        this.invocations?.take(ids.instanceId, ids.instanceName);
        return seal(material, ids);
      },
    );
  }

  private process<T>(fullName: string, instanceName: string, usage: UsageName, use: (material: Buffer, ids: MaterialIds) => T): T {
    return this.keychain.useMaterial(
      { fullName, instance: instanceName },
      (key, instance) => {
        requireFamily(key, GCM_BY_ALGORITHM, 'decryption');
        requireUsage(key, usage);
        requireState(instance, 'process', this.clock.nowMs());
      },
      use,
    );
  }
}
