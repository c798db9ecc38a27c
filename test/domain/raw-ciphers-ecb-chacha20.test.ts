/**
 * The raw modes AES-ECB (bare and PKCS#5-padded) and the ChaCha20 stream
 * cipher (domain/raw-ciphers.ts through domain/crypto-service.ts) on the
 * fast fakes: published known answers (FIPS-197 C.1, the OASIS CS-BC
 * vectors, RFC 8439 §2.4.2 and the original 64-bit-nonce ChaCha20 zero
 * vector), what each mode refuses (an IV for ECB, partial blocks without
 * padding, an initial counter outside ChaCha20, a counter that would wrap),
 * and which count against the instance's nonce budget (ChaCha20 does, ECB
 * does not: it draws no nonce).
 */
import { ManualClock } from '../../common/clock';
import { CryptoService } from '../../domain/crypto-service';
import { GcmInvocations } from '../../domain/gcm-invocations';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

describe('raw cipher modes: AES-ECB and ChaCha20', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let keychain: Keychain;
  let crypto: CryptoService;

  beforeEach(async () => {
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock });
    await keychain.unseal(hsm);
    const marks = store.invocations;
    const budget = new GcmInvocations(
      { invocationsReserved: (id) => marks.readMark(id)?.reserved ?? 0, reserveInvocations: (id, n) => marks.raiseMark(id, (c) => ({ reserved: (c?.reserved ?? 0) + n })) },
      { limit: 2, block: 1 },
    );
    crypto = new CryptoService(keychain, clock, budget);
  });

  it('AES-ECB: FIPS-197 C.1 and the OASIS CS-BC-M-4 answer, no IV answered, and back', () => {
    keychain.registerKey({ fullName: 'app/fips', algorithm: 'AES-128' }, hex('000102030405060708090a0b0c0d0e0f'));
    const fips = crypto.encryptRaw('app/fips', 'AES-ECB', hex('00112233445566778899aabbccddeeff'));
    expect(fips.ciphertext.toString('hex')).toBe('69c4e0d86a7b0430d8cdb78070b4c55a');
    expect(fips.iv).toBeUndefined();
    expect(fips.tag).toBeUndefined();
    expect(crypto.decryptRaw('app/fips', 'AES-ECB', fips.ciphertext, {}).plaintext.toString('hex')).toBe('00112233445566778899aabbccddeeff');

    keychain.registerKey({ fullName: 'app/oasis', algorithm: 'AES-128' }, hex('0123456789abcdef0123456789abcdef'));
    const block = hex('01020304050607080910111213141516');
    expect(crypto.encryptRaw('app/oasis', 'AES-ECB', block).ciphertext.toString('hex')).toBe('d9bcce11b0b437b90239552df3a360c9');
  });

  it('AES-ECB-PKCS5: a whole block gains a padding block (OASIS CS-BC-M-8), 33 bytes pad to 48 (CS-BC-M-9); bad padding is INTEGRITY_FAILURE', () => {
    keychain.registerKey({ fullName: 'app/oasis', algorithm: 'AES-128' }, hex('0123456789abcdef0123456789abcdef'));
    const block = hex('01020304050607080910111213141516');
    const padded = crypto.encryptRaw('app/oasis', 'AES-ECB-PKCS5', block);
    expect(padded.ciphertext.toString('hex')).toBe('d9bcce11b0b437b90239552df3a360c90efb6bfed93b4d1ea2123ba4db075ff6');
    const longer = Buffer.concat([block, block, hex('01')]);
    const sealed = crypto.encryptRaw('app/oasis', 'AES-ECB-PKCS5', longer);
    expect(sealed.ciphertext.subarray(0, 32).toString('hex')).toBe('d9bcce11b0b437b90239552df3a360c9'.repeat(2));
    expect(sealed.ciphertext).toHaveLength(48);
    expect(crypto.decryptRaw('app/oasis', 'AES-ECB-PKCS5', sealed.ciphertext, {}).plaintext.equals(longer)).toBe(true);
    // The last block alone decrypts to 0x01 then fifteen bytes of 0x0f; the bare block (no padding) is not valid PKCS#5.
    expect(codeOf(() => crypto.decryptRaw('app/oasis', 'AES-ECB-PKCS5', padded.ciphertext.subarray(0, 16), {}))).toBe('INTEGRITY_FAILURE');
  });

  it('AES-ECB refuses an IV, partial blocks without padding, a tag and an initial counter, and is not counted', () => {
    keychain.createKey({ fullName: 'app/aes', algorithm: 'AES-256' });
    const block = Buffer.alloc(16);
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-ECB', block, { iv: Buffer.alloc(16) }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-ECB', Buffer.alloc(17)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.decryptRaw('app/aes', 'AES-ECB', Buffer.alloc(15), {}))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-ECB', block, { tagLength: 16 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-ECB', block, { initialCounter: 1 }))).toBe('INVALID_ARGUMENT');
    for (let i = 0; i < 3; i++) crypto.encryptRaw('app/aes', 'AES-ECB', block); // past the budget of 2: ECB draws no nonce
    crypto.encryptRaw('app/aes', 'AES-GCM', block);
    crypto.encryptRaw('app/aes', 'AES-GCM', block);
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-GCM', block))).toBe('INVOCATION_LIMIT_REACHED');
  });

  it('ChaCha20 with the original 64-bit nonce: the all-zero key and nonce give the published keystream, and back', () => {
    keychain.registerKey({ fullName: 'app/zero', algorithm: 'CHACHA20' }, Buffer.alloc(32));
    const sealed = crypto.encryptRaw('app/zero', 'CHACHA20', Buffer.alloc(64), { iv: Buffer.alloc(8) });
    expect(sealed.ciphertext.toString('hex')).toBe(
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
    );
    expect(sealed.iv?.toString('hex')).toBe('0000000000000000');
    expect(crypto.decryptRaw('app/zero', 'CHACHA20', sealed.ciphertext, { iv: Buffer.alloc(8) }).plaintext.equals(Buffer.alloc(64))).toBe(true);
  });

  it('ChaCha20 with a 96-bit nonce and an initial counter: the RFC 8439 §2.4.2 answer', () => {
    keychain.registerKey({ fullName: 'app/rfc', algorithm: 'CHACHA20' }, hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'));
    const plaintext = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const nonce = hex('000000000000004a00000000');
    const sealed = crypto.encryptRaw('app/rfc', 'CHACHA20', plaintext, { iv: nonce, initialCounter: 1 });
    expect(sealed.ciphertext.subarray(0, 32).toString('hex')).toBe('6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b');
    expect(sealed.ciphertext.subarray(-18).toString('hex')).toBe('5af90bbf74a35be6b40b8eedf2785e42874d');
    expect(crypto.decryptRaw('app/rfc', 'CHACHA20', sealed.ciphertext, { iv: nonce, initialCounter: 1 }).plaintext.equals(plaintext)).toBe(true);
    expect(crypto.decryptRaw('app/rfc', 'CHACHA20', sealed.ciphertext, { iv: nonce }).plaintext.equals(plaintext)).toBe(false);
  });

  it('ChaCha20: a drawn 12-byte nonce, counted against the budget; a nonce of another length, a wrapping counter, a tag or an AES key refused', () => {
    keychain.createKey({ fullName: 'app/chacha', algorithm: 'CHACHA20' });
    keychain.createKey({ fullName: 'app/aes', algorithm: 'AES-256' });
    const data = Buffer.alloc(100);
    const drawn = crypto.encryptRaw('app/chacha', 'CHACHA20', data);
    expect(drawn.iv).toHaveLength(12);
    expect(crypto.decryptRaw('app/chacha', 'CHACHA20', drawn.ciphertext, { iv: drawn.iv }).plaintext.equals(data)).toBe(true);
    expect(codeOf(() => crypto.encryptRaw('app/chacha', 'CHACHA20', data, { iv: Buffer.alloc(16) }))).toBe('INVALID_ARGUMENT');
    // 100 bytes are two blocks: from 2^32 - 1 the second would wrap into the nonce.
    expect(codeOf(() => crypto.encryptRaw('app/chacha', 'CHACHA20', data, { iv: Buffer.alloc(12), initialCounter: 0xffffffff }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.decryptRaw('app/chacha', 'CHACHA20', data, { iv: Buffer.alloc(12), tag: Buffer.alloc(16) }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.decryptRaw('app/chacha', 'CHACHA20', data, {}))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'CHACHA20', data))).toBe('USAGE_NOT_PERMITTED');
    crypto.encryptRaw('app/chacha', 'CHACHA20', data, { iv: Buffer.alloc(8), initialCounter: 0xffffffff }); // a 64-bit counter has room
    expect(codeOf(() => crypto.encryptRaw('app/chacha', 'CHACHA20', data))).toBe('INVOCATION_LIMIT_REACHED');
  });

  it('AEAD tag lengths outside 12–16 bytes are TAG_LENGTH_REFUSED for both AEAD modes, on either side', () => {
    keychain.createKey({ fullName: 'app/chacha', algorithm: 'CHACHA20' });
    keychain.createKey({ fullName: 'app/aes', algorithm: 'AES-256' });
    expect(codeOf(() => crypto.encryptRaw('app/chacha', 'CHACHA20-POLY1305', Buffer.alloc(1), { tagLength: 1 }))).toBe('TAG_LENGTH_REFUSED');
    expect(codeOf(() => crypto.encryptRaw('app/aes', 'AES-GCM', Buffer.alloc(1), { tagLength: 32 }))).toBe('TAG_LENGTH_REFUSED');
    expect(codeOf(() => crypto.decryptRaw('app/aes', 'AES-GCM', Buffer.alloc(1), { iv: Buffer.alloc(12), tag: Buffer.alloc(8) }))).toBe('TAG_LENGTH_REFUSED');
  });
});
