/**
 * What the appliance can say about an instance's material without giving
 * it away, for the attributes clients ask about (KMIP Digest, Random Number
 * Generator, Sensitive, Extractable): facts of this appliance, kept here so
 * that every wire reports the same ones.
 *
 * - Digest: SHA-256 of the raw material (KMIP 1.4 §3.17: the digest of the
 *   Key Material). Computed when asked, from the authenticated sealed
 *   material, never stored: a stored digest would be one more column the
 *   (untrusted) database could make disagree with the material, and
 *   instances made before it existed would have none. Not for SECRET: a
 *   secret may be a password, and its hash would let anyone who may read
 *   attributes test guesses offline; a 128+-bit random key's hash discloses
 *   nothing usable.
 * - Generator: the keys the appliance makes are drawn with node:crypto's
 *   randomFillSync (keys/key-catalogue.ts, keys/key-rollover.ts), that is
 *   OpenSSL 3's default DRBG: NIST SP 800-90A CTR_DRBG on AES-256, seeded by
 *   the kernel. Material a caller gave — a dual-controlled key import
 *   (operations/key-import.ts), a rollover with the caller's material, any
 *   SECRET — has no generator we could name: the instance row records its
 *   origin (storage/records.ts `origin`, under the row MAC), and SECRET is
 *   the caller's whatever an old row says.
 * - Extractable: any key's material may be fetched with Get (with the
 *   `get` grant, or an officer's dual-controlled export), in the clear over
 *   the mutually authenticated channel, unless the key is Sensitive.
 * - Sensitive: what its creator asked for at Create or Register (the key
 *   row's `sensitive`, under the row MAC): Get then refuses its material in
 *   the clear on both wires (keys/instance-freshness.ts). It cannot be
 *   cleared afterwards, so it has always been what it is (KMIP Always
 *   Sensitive). Such a key is still used through the appliance.
 * - Lease: how long a client that obtained the material may use it before
 *   it asks again (KMIP Lease Time; LEASE_SECONDS). The appliance cannot
 *   take back bytes it served: the lease is what it tells clients, so that a
 *   revocation or a rollover reaches a well-behaved one within the hour.
 * - Storage: where the material is protected (KMIP Protection Storage
 *   Mask): `software`. Each instance's material is sealed with AES-GCM in
 *   the keychain database and opened in the server's memory to be used;
 *   the HSM holds the master key that wraps the keychain key, never the
 *   objects themselves, so claiming hardware storage would be false.
 */
import { createHash } from 'node:crypto';
import { algorithmInfo, parseAlgorithm } from '../algorithms';

/** Whether the appliance drew the material or a caller gave it (storage/records.ts keeps it per instance; the client package reaches this file, not storage). */
export type MaterialOrigin = 'generated' | 'imported';

export interface MaterialDigest {
  readonly algorithm: 'SHA-256';
  /** Hex. */
  readonly value: string;
  /** What was hashed: the raw key bytes. */
  readonly format: 'raw';
}

export interface KeyGenerator {
  /** SP 800-90A deterministic random bit generator. */
  readonly kind: 'DRBG';
  readonly drbg: 'CTR_DRBG';
  readonly cipher: 'AES';
  readonly bits: 256;
}

/** What may be said of any instance of a key, whatever its state. */
export interface MaterialFacts {
  /** Its material may be fetched with Get. */
  readonly extractable: boolean;
  /** Whether Get refuses it unless wrapped (KMIP Sensitive). */
  readonly sensitive: boolean;
  /** The generator its material was drawn from; null for material a caller gave. */
  readonly generator: KeyGenerator | null;
  /** Whether the appliance drew the material or a caller gave it. */
  readonly origin: MaterialOrigin;
  /** How long, in seconds, a client may use the material it obtained before asking again (KMIP Lease Time). */
  readonly leaseSeconds: number;
  /** Where the material is protected: sealed in software (the HSM holds only the master key). */
  readonly storage: 'software';
}

/** The lease the appliance gives served material: one hour, the OASIS cases' value, and a bound on how stale a client's copy may be. */
export const LEASE_SECONDS = 3600;

export const KEY_GENERATOR: KeyGenerator = Object.freeze({ kind: 'DRBG', drbg: 'CTR_DRBG', cipher: 'AES', bits: 256 });

/**
 * Material of an algorithm the appliance does not generate (SECRET, and the
 * objects it keeps but never uses: OPAQUE, CERTIFICATE, RSA-/EC-/DSA- keys) is
 * always the caller's: no generator of ours.
 */
const isCallerMaterial = (algorithm: string): boolean => algorithmInfo(parseAlgorithm(algorithm)).generateLength === null;

/** The facts of an instance of `algorithm` whose row records `origin` (default: a key the appliance created), of a key created `sensitive` or not. */
export function materialFacts(algorithm: string, origin: MaterialOrigin = 'generated', sensitive = false): MaterialFacts {
  const given = isCallerMaterial(algorithm) || origin === 'imported';
  return { extractable: true, sensitive, generator: given ? null : KEY_GENERATOR, origin: given ? 'imported' : 'generated', leaseSeconds: LEASE_SECONDS, storage: 'software' };
}

/** Whether an instance of this algorithm has a digest to report: not for material a caller gave (a SECRET or an opaque object may be a password; see above). */
export const hasDigest = (algorithm: string): boolean => !isCallerMaterial(algorithm);

/** SHA-256 of the material; the caller zeroes `material`. */
export function digestOf(material: Buffer): MaterialDigest {
  return { algorithm: 'SHA-256', value: createHash('sha256').update(material).digest('hex'), format: 'raw' };
}
