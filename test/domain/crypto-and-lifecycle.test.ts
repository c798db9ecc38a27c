/**
 * Encrypt/Decrypt, envelope encryption, MAC and the lifecycle operations on
 * the fast fakes (the socket tests run them on SoftHSM2 and SQLite).
 */
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { LifecycleService } from '../../domain/lifecycle-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

describe('crypto and lifecycle services', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let keychain: Keychain;
  let crypto: CryptoService;
  let lifecycle: LifecycleService;

  beforeEach(async () => {
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    crypto = new CryptoService(keychain);
    lifecycle = new LifecycleService(keychain, clock);
    keychain.createKey({ fullName: 'app/data', algorithm: 'AES-256' });
    keychain.createKey({ fullName: 'app/mac', algorithm: 'HMAC-SHA256' });
  });

  it('encrypts before a rollover and decrypts after it', () => {
    const plaintext = Buffer.from('card 4111 1111 1111 1111');
    const aad = Buffer.from('customer-42');
    const sealed = crypto.encrypt('app/data', plaintext, aad);
    keychain.rollover('app/data');
    const opened = crypto.decrypt('app/data', sealed.ciphertext, aad);
    expect(opened.plaintext.equals(plaintext)).toBe(true);
    expect(opened.instance).toBe(sealed.instance);
    expect(crypto.encrypt('app/data', plaintext).instance).not.toBe(sealed.instance);
  });

  it('refuses the wrong aad, another key, and an altered ciphertext', () => {
    const sealed = crypto.encrypt('app/data', Buffer.from('x'), Buffer.from('a'));
    expect(codeOf(() => crypto.decrypt('app/data', sealed.ciphertext, Buffer.from('b')))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => crypto.decrypt('app/data', sealed.ciphertext))).toBe('INTEGRITY_FAILURE');
    keychain.createKey({ fullName: 'app/other', algorithm: 'AES-256' });
    expect(codeOf(() => crypto.decrypt('app/other', sealed.ciphertext, Buffer.from('a')))).toBe('INSTANCE_NOT_FOUND');
    const altered = Buffer.from(sealed.ciphertext);
    altered[altered.length - 1] ^= 1;
    expect(codeOf(() => crypto.decrypt('app/data', altered, Buffer.from('a')))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => crypto.decrypt('app/data', Buffer.from([1, 2, 3])))).toBe('INVALID_ARGUMENT');
  });

  it('round-trips a data key, and keeps data-key blobs and ciphertexts apart', () => {
    const generated = crypto.generateDataKey('app/data', 256);
    expect(generated.plaintext).toHaveLength(32);
    expect(crypto.decryptDataKey('app/data', generated.wrapped).plaintext.equals(generated.plaintext)).toBe(true);
    expect(codeOf(() => crypto.decrypt('app/data', generated.wrapped))).toBe('INTEGRITY_FAILURE');
    const ciphertext = crypto.encrypt('app/data', randomBytes(32)).ciphertext;
    expect(codeOf(() => crypto.decryptDataKey('app/data', ciphertext))).toBe('INTEGRITY_FAILURE');
  });

  it('a Deactivated instance decrypts but never encrypts', () => {
    const sealed = crypto.encrypt('app/data', Buffer.from('x'));
    lifecycle.revoke({ fullName: 'app/data' }, 'cessationOfOperation');
    expect(codeOf(() => crypto.encrypt('app/data', Buffer.from('y')))).toBe('WRONG_STATE');
    expect(codeOf(() => crypto.generateDataKey('app/data', 128))).toBe('WRONG_STATE');
    expect(crypto.decrypt('app/data', sealed.ciphertext).plaintext.toString()).toBe('x');
  });

  it('MACs with HMAC keys only, and verifies', () => {
    const data = Buffer.from('amount=100');
    const made = crypto.mac('app/mac', data);
    expect(made.mac).toHaveLength(32);
    expect(crypto.macVerify('app/mac', data, made.mac).valid).toBe(true);
    expect(crypto.macVerify('app/mac', Buffer.from('amount=999'), made.mac).valid).toBe(false);
    expect(codeOf(() => crypto.mac('app/data', data))).toBe('USAGE_NOT_PERMITTED');
    expect(codeOf(() => crypto.encrypt('app/mac', data))).toBe('USAGE_NOT_PERMITTED');
  });

  it('honours the usage mask', () => {
    keychain.createKey({ fullName: 'app/decrypt-only', algorithm: 'AES-128', usageMask: 0x8 });
    expect(codeOf(() => crypto.encrypt('app/decrypt-only', Buffer.from('x')))).toBe('USAGE_NOT_PERMITTED');
  });

  it('activates PreActive keys, refuses illegal transitions, destroys material but keeps metadata', () => {
    keychain.createKey({ fullName: 'app/later', algorithm: 'AES-256', activate: false });
    expect(codeOf(() => crypto.encrypt('app/later', Buffer.from('x')))).toBe('WRONG_STATE');
    // A PreActive key may be distributed before it may be used (SP 800-57 pre-activation, KMIP Get).
    expect(codeOf(() => keychain.getKey({ fullName: 'app/later' }))).toBe('NO_ERROR');
    expect(lifecycle.activate({ fullName: 'app/later' }).state).toBe('Active');
    expect(codeOf(() => lifecycle.activate({ fullName: 'app/later' }))).toBe('WRONG_STATE');
    expect(codeOf(() => lifecycle.destroy({ fullName: 'app/later' }))).toBe('WRONG_STATE');
    lifecycle.revoke({ fullName: 'app/later' }, 'superseded');
    const destroyed = lifecycle.destroy({ fullName: 'app/later' });
    expect(destroyed).toMatchObject({ state: 'Destroyed', hasMaterial: false, destroyedAt: '2026-05-01T00:00:00.000Z' });
    expect(codeOf(() => keychain.getKey({ fullName: 'app/later' }))).toBe('NO_MATERIAL');
    expect(keychain.describeKey('app/later').instances[0].state).toBe('Destroyed');
    expect(lifecycle.revoke({ fullName: 'app/later' }, 'keyCompromise').state).toBe('DestroyedCompromised');
  });

  it('marks compromise and still lets the compromised instance decrypt', () => {
    const sealed = crypto.encrypt('app/data', Buffer.from('x'));
    expect(lifecycle.revoke({ fullName: 'app/data' }, 'keyCompromise', '2026-04-01T00:00:00Z').state).toBe('Compromised');
    expect(crypto.decrypt('app/data', sealed.ciphertext).plaintext.toString()).toBe('x');
    expect(codeOf(() => crypto.encrypt('app/data', Buffer.from('y')))).toBe('WRONG_STATE');
    expect(lifecycle.destroy({ fullName: 'app/data' }).state).toBe('DestroyedCompromised');
  });
});
