/**
 * DSA keys kept, never used: the DER the appliance writes from a key's
 * components is the DER node:crypto writes for that key (read back
 * identically), the strict reader refuses every other shape, and the checks
 * of the numbers (domain/keys/dsa-key-check.ts) refuse each broken rule
 * with its reason, through readObjectFacts as the native Register runs
 * them. The fixed key is the OASIS BL-M-12/13 one (FIPS 186-2 test
 * parameters, p of 512 bits): its y is g^x mod p, so reading it right is
 * checked by arithmetic, not by the reader itself.
 */
import { checkPrimeSync, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { dsaPrivateKeyDer, dsaPublicKeyDer, readDsaPrivateKey, readDsaPublicKey } from '../../../domain/keys/dsa-der';
import { readObjectFacts } from '../../../domain/stored-objects';

const big = (hex: string): bigint => BigInt(`0x${hex}`);
const p = big('fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17');
const q = big('962eddcc369cba8ebb260ee6b6a126d9346e38c5');
const g = big('678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca4');
const y = big('b3cb74d988dea7160a64a4edbb7f70404fa4c08a4208c19d76357a6a9df200cce79faecb22e3419be9b01128cbd998a2d9307101705e4a952462f34728ac5fcf');
const x = big('095411d740d2443fa3f97d1ed9a0411bb45e7131');

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  for (let e = exponent, square = base % modulus; e > 0n; e >>= 1n, square = (square * square) % modulus) if (e & 1n) result = (result * square) % modulus;
  return result;
}

const generated = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 });
const pkcs8 = generated.privateKey.export({ format: 'der', type: 'pkcs8' });
const spki = generated.publicKey.export({ format: 'der', type: 'spki' });

describe('DSA keys in DER', () => {
  it('reads a generated key pair and writes back exactly the bytes node:crypto wrote; its y is g^x mod p', () => {
    const secret = readDsaPrivateKey(pkcs8);
    const known = readDsaPublicKey(spki);
    expect([secret.p, secret.q, secret.g]).toEqual([known.p, known.q, known.g]);
    expect(modPow(secret.g, secret.x, secret.p)).toBe(known.y);
    expect(dsaPrivateKeyDer(secret).equals(pkcs8)).toBe(true);
    expect(dsaPublicKeyDer(known).equals(spki)).toBe(true);
  });

  it('writes the OASIS key so that node:crypto reads it as a 512-bit DSA key whose public key is the one the case gives', () => {
    const privateDer = dsaPrivateKeyDer({ p, q, g, x });
    const key = createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' });
    expect([key.asymmetricKeyType, key.asymmetricKeyDetails]).toEqual(['dsa', { modulusLength: 512, divisorLength: 160 }]);
    // node:crypto derives y from x: the public key it makes is the one written from the case's y.
    expect((createPublicKey(key).export({ format: 'der', type: 'spki' }) as Buffer).equals(dsaPublicKeyDer({ p, q, g, y }))).toBe(true);
    expect(modPow(g, x, p)).toBe(y);
  });

  it('refuses every other shape: trailing bytes, a non-minimal or negative INTEGER, another algorithm, a public key read as private', () => {
    const withTrailing = Buffer.concat([spki, Buffer.from([0])]);
    expect(() => readDsaPublicKey(withTrailing)).toThrow(/bytes follow the key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
    expect(() => readDsaPublicKey(rsa)).toThrow(/not id-dsa/);
    expect(() => readDsaPrivateKey(spki)).toThrow(/expected tag 0x2/);
    // The version INTEGER 0 of a PrivateKeyInfo (02 01 00) made 02 02 00 00: not minimal; made 02 01 ff: negative.
    const version = pkcs8.indexOf(Buffer.from('020100', 'hex'));
    const nonMinimal = Buffer.concat([pkcs8.subarray(0, version), Buffer.from('02020000', 'hex'), pkcs8.subarray(version + 3)]);
    nonMinimal.writeUInt16BE(nonMinimal.readUInt16BE(2) + 1, 2); // the outer SEQUENCE's two-byte length grows by one
    expect(() => readDsaPrivateKey(nonMinimal)).toThrow(/not minimal/);
    const negative = Buffer.from(pkcs8);
    negative[version + 2] = 0xff;
    expect(() => readDsaPrivateKey(negative)).toThrow(/negative/);
  });
});

describe('the numbers of a DSA key the appliance keeps', () => {
  it('keeps a sound key pair, reporting p\'s length', () => {
    expect(readObjectFacts('DSA-PUBLIC', dsaPublicKeyDer({ p, q, g, y }), undefined)).toEqual({ encoding: 'spki', lengthBits: 512 });
    expect(readObjectFacts('DSA-PRIVATE', dsaPrivateKeyDer({ p, q, g, x }), undefined)).toEqual({ encoding: 'pkcs8', lengthBits: 512 });
    expect(readObjectFacts('DSA-PRIVATE', pkcs8, undefined)).toEqual({ encoding: 'pkcs8', lengthBits: 1024 });
  });

  it.each([
    ['x = q', { x: q }, /x is not between 0 and q/],
    ['x > q', { x: q + 5n }, /x is not between 0 and q/],
    ['g = 1', { g: 1n }, /g is not between 1 and p/],
    ['g ≥ p', { g: p + 1n }, /g is not between 1 and p/],
    ['g not of order q', { g: 2n }, /g does not generate the subgroup of order q/],
    ['q not dividing p − 1', { p: p + 2n }, /q does not divide p − 1/],
    ['q of 192 bits', { q: q << 32n }, /q is 192 bits, not 160, 224, 256/],
    ['p of 256 bits', { p: (1n << 255n) + 1n }, /p is 256 bits; DSA keys are kept with p of 512 to 4096 bits/],
  ])('refuses a private key with %s', (_, change, reason) => {
    const key = { p, q, g, x, ...change };
    expect(() => readObjectFacts('DSA-PRIVATE', dsaPrivateKeyDer(key as { p: bigint; q: bigint; g: bigint; x: bigint }), undefined)).toThrow(reason);
  });

  it('refuses a composite q even when p is a prime with q | p − 1 and g^q = 1: only the primality test of q stops it', () => {
    const composite = (1n << 159n) + 1n; // 160 bits, and 2^159 + 1 is divisible by 3
    expect(composite % 3n).toBe(0n);
    let prime = composite * (1n << 360n) + 1n;
    while (!checkPrimeSync(prime)) prime += 2n * composite; // p ≡ 1 (mod q), 521 bits
    const generator = modPow(2n, (prime - 1n) / composite, prime); // of order dividing q, by Fermat
    expect(modPow(generator, composite, prime)).toBe(1n);
    expect(() => readObjectFacts('DSA-PRIVATE', dsaPrivateKeyDer({ p: prime, q: composite, g: generator, x: 1n }), undefined)).toThrow(/q is not prime/);
  });

  it('refuses a public key whose y is out of range or outside the subgroup', () => {
    expect(() => readObjectFacts('DSA-PUBLIC', dsaPublicKeyDer({ p, q, g, y: p - 1n }), undefined)).toThrow(/y is not between 1 and p − 1/);
    expect(() => readObjectFacts('DSA-PUBLIC', dsaPublicKeyDer({ p, q, g, y: y + 1n }), undefined)).toThrow(/y is not in the subgroup of order q/);
  });

  it('refuses a DSA key registered as RSA, and an RSA key registered as DSA', () => {
    expect(() => readObjectFacts('RSA-PRIVATE', pkcs8, undefined)).toThrow(/is a dsa key, not RSA-PRIVATE/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => readObjectFacts('DSA-PRIVATE', rsa, undefined)).toThrow(/is a rsa key, not DSA-PRIVATE/);
  });
});
