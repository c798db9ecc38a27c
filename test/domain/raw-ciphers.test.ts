/**
 * The raw modes of Encrypt and Decrypt (domain/raw-ciphers.ts through
 * domain/crypto-service.ts) on the fast fakes: answers node:crypto agrees
 * with under the key's own material (and a published NIST GCM vector),
 * tags of 12–16 bytes, CBC padding, the appliance's own AADs refused, the
 * key's algorithm, usage and instance state checked as for the envelope,
 * and every AEAD seal counted against the same budget as the envelope's.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { encodeFields } from '../../domain/field-encoding';
import { GcmInvocations } from '../../domain/gcm-invocations';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { USAGE_BITS } from '../../domain/usage-mask';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

describe('raw cipher modes', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let keychain: Keychain;
  let crypto: CryptoService;
  let budget: GcmInvocations;

  beforeEach(async () => {
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    const marks = store.invocations;
    budget = new GcmInvocations(
      { invocationsReserved: (id) => marks.readMark(id)?.reserved ?? 0, reserveInvocations: (id, n) => marks.raiseMark(id, (c) => ({ reserved: (c?.reserved ?? 0) + n })) },
      { limit: 3, block: 1 },
    );
    crypto = new CryptoService(keychain, clock, budget);
    keychain.createKey({ fullName: 'app/aes', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'app/chacha', algorithm: 'CHACHA20' });
  });

  const materialOf = (fullName: string): Buffer => keychain.getKey({ fullName }).material;

  it('AES-GCM: a drawn 12-byte IV, the tag length asked, and node:crypto opens it with the key material', () => {
    const aad = Buffer.from('row 7');
    const sealed = crypto.encryptRaw('app/aes', 'AES-GCM', Buffer.from('attack at dawn'), { aad, tagLength: 13 });
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.tag).toHaveLength(13);
    const decipher = createDecipheriv('aes-256-gcm', materialOf('app/aes'), sealed.iv as Buffer, { authTagLength: 13 });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag as Buffer);
    expect(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString()).toBe('attack at dawn');
    const opened = crypto.decryptRaw('app/aes', 'AES-GCM', sealed.ciphertext, { iv: sealed.iv, tag: sealed.tag, aad });
    expect(opened.plaintext.toString()).toBe('attack at dawn');
    expect(opened.instance).toBe(sealed.instance);
  });

  it('AES-GCM: a registered key and a caller IV give the NIST SP 800-38D test case 3 answer; a truncated tag still opens', () => {
    keychain.registerKey({ fullName: 'app/nist', algorithm: 'AES-128' }, hex('feffe9928665731c6d6a8f9467308308'));
    const plaintext = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255');
    const sealed = crypto.encryptRaw('app/nist', 'AES-GCM', plaintext, { iv: hex('cafebabefacedbaddecaf888') });
    expect(sealed.ciphertext.toString('hex')).toBe('42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985');
    expect((sealed.tag as Buffer).toString('hex')).toBe('4d5c2af327cd64a62cf35abd2ba6fab4');
    const short = (sealed.tag as Buffer).subarray(0, 12);
    expect(crypto.decryptRaw('app/nist', 'AES-GCM', sealed.ciphertext, { iv: sealed.iv, tag: short }).plaintext.equals(plaintext)).toBe(true);
  });

  it('AES-GCM: a wrong tag, IV, AAD or ciphertext is INTEGRITY_FAILURE', () => {
    const sealed = crypto.encryptRaw('app/aes', 'AES-GCM', Buffer.from('x'), { aad: Buffer.from('a') });
    const tag = sealed.tag as Buffer;
    const flip = (b: Buffer): Buffer => Buffer.from(b.map((byte, i) => (i === 0 ? byte ^ 1 : byte)));
    const open = (o: { ct?: Buffer; iv?: Buffer; tag?: Buffer; aad?: Buffer }) => () =>
      crypto.decryptRaw('app/aes', 'AES-GCM', o.ct ?? sealed.ciphertext, { iv: o.iv ?? sealed.iv, tag: o.tag ?? tag, aad: o.aad ?? Buffer.from('a') });
    expect(codeOf(open({ tag: flip(tag) }))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(open({ iv: flip(sealed.iv as Buffer) }))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(open({ aad: Buffer.from('b') }))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(open({ ct: flip(sealed.ciphertext) }))).toBe('INTEGRITY_FAILURE');
  });

  it('refuses tags outside 12–16 bytes (TAG_LENGTH_REFUSED), IVs of the wrong length, AAD on CBC, and the appliance\'s own AADs', () => {
    const p = Buffer.from('x');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-GCM', p, { tagLength: 11 }))).toBe('TAG_LENGTH_REFUSED');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-GCM', p, { tagLength: 17 }))).toBe('TAG_LENGTH_REFUSED');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-CBC-PKCS5', p, { iv: Buffer.alloc(12) }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.encryptRaw('app/chacha', 'CHACHA20-POLY1305', p, { iv: Buffer.alloc(8) }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-CBC-PKCS5', p, { aad: Buffer.from('a') }))).toBe('INVALID_ARGUMENT');
    const applianceAad = encodeFields(['strongroom/data-key/v1', 'keychain', 'key', 'instance', null]);
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-GCM', p, { aad: applianceAad }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.decryptRaw('app/aes', 'AES-GCM', p, { iv: Buffer.alloc(12), tag: Buffer.alloc(16), aad: applianceAad }))).toBe('INVALID_ARGUMENT');
    expect(budget.limit).toBe(3); // nothing above was counted: the next three seals still succeed
    for (let i = 0; i < 3; i++) crypto.encryptRaw('app/aes', 'AES-GCM', p);
  });

  it('AES-CBC-PKCS5: a drawn 16-byte IV, PKCS#5 padding node:crypto agrees with, bad padding is INTEGRITY_FAILURE', () => {
    const plaintext = Buffer.alloc(33, 7);
    const sealed = crypto.encryptRaw('app/aes', 'AES-CBC-PKCS5', plaintext);
    expect(sealed.iv).toHaveLength(16);
    expect(sealed.ciphertext).toHaveLength(48);
    expect(sealed.tag).toBeUndefined();
    const expected = createCipheriv('aes-256-cbc', materialOf('app/aes'), sealed.iv as Buffer);
    expect(sealed.ciphertext.equals(Buffer.concat([expected.update(plaintext), expected.final()]))).toBe(true);
    expect(crypto.decryptRaw('app/aes', 'AES-CBC-PKCS5', sealed.ciphertext, { iv: sealed.iv }).plaintext.equals(plaintext)).toBe(true);
    const badPadding = Buffer.from(sealed.ciphertext);
    badPadding[31] ^= 0xff; // the last block's plaintext padding byte changes
    expect(codeOf(() => crypto.decryptRaw('app/aes', 'AES-CBC-PKCS5', badPadding, { iv: sealed.iv }))).toBe('INTEGRITY_FAILURE');
  });

  it('CHACHA20-POLY1305 needs a CHACHA20 key (RFC 8439 §2.8.2 vector), and AES modes an AES key', () => {
    keychain.registerKey({ fullName: 'app/rfc', algorithm: 'CHACHA20' }, hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'));
    const plaintext = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const sealed = crypto.encryptRaw('app/rfc', 'CHACHA20-POLY1305', plaintext, { iv: hex('070000004041424344454647'), aad: hex('50515253c0c1c2c3c4c5c6c7') });
    expect(sealed.ciphertext.subarray(0, 8).toString('hex')).toBe('d31a8d34648e60db');
    expect((sealed.tag as Buffer).toString('hex')).toBe('1ae10b594f09e26a7e902ecbd0600691');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'CHACHA20-POLY1305', plaintext))).toBe('USAGE_NOT_PERMITTED');
    expect(codeOf(() => crypto.encryptRaw('app/chacha', 'AES-GCM', plaintext))).toBe('USAGE_NOT_PERMITTED');
    expect(codeOf(() => crypto.encrypt('app/chacha', plaintext))).toBe('USAGE_NOT_PERMITTED');
  });

  it('checks the usage mask and the instance state as the envelope does: a Deactivated instance decrypts only', () => {
    keychain.createKey({ fullName: 'app/encrypt-only', algorithm: 'AES-256', usageMask: USAGE_BITS.encrypt });
    const sealed = crypto.encryptRaw('app/encrypt-only', 'AES-GCM', Buffer.from('x'));
    expect(codeOf(() => crypto.decryptRaw('app/encrypt-only', 'AES-GCM', sealed.ciphertext, { iv: sealed.iv, tag: sealed.tag }))).toBe('USAGE_NOT_PERMITTED');
    const old = crypto.encryptRaw('app/aes', 'AES-CBC-PKCS5', Buffer.from('old'));
    keychain.transitionInstance({ instance: old.instance }, 'Deactivated', { deactivatedAt: new Date(clock.nowMs()).toISOString() });
    expect(codeOf(() => crypto.encryptRaw({ instance: old.instance }, 'AES-CBC-PKCS5', Buffer.from('new')))).toBe('WRONG_STATE');
    expect(crypto.decryptRaw({ instance: old.instance }, 'AES-CBC-PKCS5', old.ciphertext, { iv: old.iv }).plaintext.toString()).toBe('old');
  });

  it('counts every AEAD seal, caller IV or not, against the budget the envelope uses; CBC and decryption are not counted', () => {
    crypto.encrypt('app/aes', Buffer.from('envelope'));
    crypto.encryptRaw('app/aes', 'AES-GCM', Buffer.from('raw'), { iv: Buffer.alloc(12) });
    const sealed = crypto.encryptRaw('app/aes', 'AES-CBC-PKCS5', Buffer.from('cbc'));
    crypto.decryptRaw('app/aes', 'AES-CBC-PKCS5', sealed.ciphertext, { iv: sealed.iv });
    crypto.encryptRaw('app/aes', 'AES-GCM', Buffer.from('third'));
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-GCM', Buffer.from('fourth')))).toBe('INVOCATION_LIMIT_REACHED');
    expect(codeOf(() => crypto.encrypt('app/aes', Buffer.from('fourth')))).toBe('INVOCATION_LIMIT_REACHED');
    crypto.encryptRaw('app/chacha', 'CHACHA20-POLY1305', Buffer.from('own budget'));
  });

  it('the envelope and MAC take an instance too: Decrypt refuses an instance other than the ciphertext\'s, MAC the algorithm not the key\'s', () => {
    const first = keychain.describeKey('app/aes').key.currentInstance;
    const sealed = crypto.encrypt({ fullName: 'app/aes', instance: first }, Buffer.from('x'));
    keychain.rollover('app/aes');
    const second = keychain.describeKey('app/aes').key.currentInstance;
    expect(crypto.decrypt({ instance: first }, sealed.ciphertext).plaintext.toString()).toBe('x');
    expect(codeOf(() => crypto.decrypt({ fullName: 'app/aes', instance: second }, sealed.ciphertext))).toBe('INVALID_ARGUMENT');
    keychain.createKey({ fullName: 'app/mac', algorithm: 'HMAC-SHA512' });
    const instance = keychain.describeKey('app/mac').key.currentInstance;
    const made = crypto.mac({ instance }, Buffer.from('m'), 'HMAC-SHA512');
    expect(made.mac).toHaveLength(64);
    expect(crypto.macVerify({ instance }, Buffer.from('m'), made.mac, 'HMAC-SHA512').valid).toBe(true);
    expect(codeOf(() => crypto.mac({ instance }, Buffer.from('m'), 'HMAC-SHA256'))).toBe('USAGE_NOT_PERMITTED');
  });
});
