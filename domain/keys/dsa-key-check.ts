/**
 * What the appliance checks of a DSA key it is asked to keep (it never signs
 * or verifies with one: FIPS 186-5 retired DSA signatures; the key is kept
 * for its owner and handed back). node:crypto reads the DER but checks none
 * of the numbers, so they are checked here, with node:crypto's primality
 * test and bigint arithmetic (FIPS 186-4 §4.1, Appendix A.1.1.1 and A.2.2
 * where they need nothing the key does not carry):
 *
 * - p is L bits, L from 512 (FIPS 186-2's smallest; the OASIS cases use it)
 *   to 4096; q is N bits, N 160, 224 or 256, probably prime (node:crypto's
 *   checkPrimeSync), and q divides p − 1;
 * - 1 < g < p and g^q ≡ 1 (mod p): g generates the subgroup of order q;
 * - a public key: 1 < y < p − 1 and y^q ≡ 1 (mod p);
 * - a private key: 0 < x < q.
 *
 * Not checked: that p is prime. OpenSSL's test of a 3072-bit p takes a
 * good part of a second of the one thread that serves every client (asked
 * for fewer Miller-Rabin rounds it is no faster), for a key the
 * appliance never uses: a wrong p harms only its owner, and q prime
 * dividing p − 1 with g of order q already ties the numbers together.
 * Nor, because the key does not carry what it would take: that p and q
 * came from the seeded generation of FIPS 186-4 A.1 (the domain
 * parameter seed and counter are not part of a key), that g was made
 * verifiably (A.2.3), that x was drawn at random, and that a private key
 * belongs to any public key (PKCS#8 and KMIP's Transparent DSA Private Key
 * carry no y). Refusals name what is wrong (and a length), never a component's value.
 */
import { checkPrimeSync } from 'node:crypto';
import { ValidationError } from '../../common/errors';
import type { DsaDomain, DsaPrivateComponents, DsaPublicComponents } from './dsa-der';

export const DSA_MIN_BITS = 512;
export const DSA_MAX_BITS = 4096;
export const DSA_SUBGROUP_BITS: readonly number[] = [160, 224, 256];

export function checkDsaPublicKey(key: DsaPublicComponents): void {
  checkDsaDomain(key);
  if (key.y <= 1n || key.y >= key.p - 1n) refuse('y is not between 1 and p − 1');
  if (modPow(key.y, key.q, key.p) !== 1n) refuse('y is not in the subgroup of order q (y^q mod p is not 1)');
}

export function checkDsaPrivateKey(key: DsaPrivateComponents): void {
  checkDsaDomain(key);
  if (key.x <= 0n || key.x >= key.q) refuse('x is not between 0 and q');
}

/** p's length in bits: the key length KMIP reports (its Cryptographic Length). */
export const dsaKeyBits = (domain: DsaDomain): number => bitLength(domain.p);

function checkDsaDomain({ p, q, g }: DsaDomain): void {
  const l = bitLength(p);
  const n = bitLength(q);
  if (l < DSA_MIN_BITS || l > DSA_MAX_BITS) refuse(`p is ${l} bits; DSA keys are kept with p of ${DSA_MIN_BITS} to ${DSA_MAX_BITS} bits`);
  if (!DSA_SUBGROUP_BITS.includes(n)) refuse(`q is ${n} bits, not ${DSA_SUBGROUP_BITS.join(', ')}`);
  if ((p - 1n) % q !== 0n) refuse('q does not divide p − 1');
  if (g <= 1n || g >= p) refuse('g is not between 1 and p');
  if (modPow(g, q, p) !== 1n) refuse('g does not generate the subgroup of order q (g^q mod p is not 1)');
  // A few milliseconds for q's 256 bits at most (p's test is not run: see the top of this file).
  if (!checkPrimeSync(q)) refuse('q is not prime');
}

function bitLength(value: bigint): number {
  return value <= 0n ? 0 : value.toString(2).length;
}

/** base^exponent mod modulus, square and multiply (the exponent is public here: q). */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

function refuse(why: string): never {
  throw new ValidationError(`the material is not a DSA key the appliance keeps: ${why}`, { details: { field: 'material' } });
}
