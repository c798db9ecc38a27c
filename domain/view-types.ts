/**
 * The shapes of the views callers see of keys and instances (metadata only),
 * apart from the functions that build them from records (views.ts): the
 * client library takes these as types without pulling in storage/.
 */
import type { UsageName } from './usage-mask';

export interface KeyView {
  readonly id: string;
  readonly fullName: string;
  readonly namespace: string;
  readonly name: string;
  readonly algorithm: string;
  readonly usageMask: number;
  readonly usage: UsageName[];
  readonly description: string;
  readonly owner: string;
  readonly customAttributes: Readonly<Record<string, string>>;
  readonly rolloverPolicy: string;
  readonly cryptoperiod: string | null;
  readonly currentInstance: string;
  readonly currentVersion: number;
  /** The current instance's state (PreActive, Active, …): what Locate filters on without a read per key. */
  readonly currentState: string;
  /** When the scheduler rolls it over next (ISO UTC), or null. */
  readonly nextRolloverAt: string | null;
  /** SP 800-57 originator and recipient usage periods of new instances (ISO 8601), or null. */
  readonly protectPeriod: string | null;
  readonly processPeriod: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** A kept object's facts (opaque objects, certificates, public and private keys: domain/stored-objects.ts); absent for every other key. */
  readonly facts?: ObjectFacts;
}

/** How a stored object's bytes are encoded. */
export type StoredEncoding = 'opaque' | 'x509-der' | 'pkcs1' | 'spki' | 'pkcs8' | 'sec1';

/** A certificate's public key and names, as X509Certificate reads them. */
export interface CertificateFacts {
  /** RFC 2253 attributes one per line, as node:crypto writes them ("C=AU\nCN=example"). */
  readonly subject: string;
  readonly issuer: string;
  /** Upper-case hex. */
  readonly serialNumber: string;
  /** The certified key's type (`rsa`, `ec`, …) and length in bits, when node:crypto gives one. */
  readonly keyType: string;
  readonly keyBits: number | null;
}

/** What the appliance read from a stored object's material at Register. */
export interface ObjectFacts {
  readonly encoding: StoredEncoding;
  /** RSA: the modulus; EC: the curve's field size; a certificate: its DER length in bytes is `certificateBytes`. */
  readonly lengthBits?: number;
  /** EC keys: the named curve (node:crypto's name, e.g. `prime256v1`). */
  readonly curve?: string;
  /** Opaque objects: the caller's Opaque Data Type (an unsigned 32-bit number; KMIP defines only extensions). */
  readonly opaqueType?: number;
  readonly certificateBytes?: number;
  readonly certificate?: CertificateFacts;
}

export interface InstanceView {
  readonly name: string;
  readonly version: number;
  readonly state: string;
  readonly current: boolean;
  readonly hasMaterial: boolean;
  readonly createdAt: string;
  /** When it became Active; null while PreActive. */
  readonly activatedAt: string | null;
  /** A PreActive instance's activation date: the server activates it then (null: none, or not PreActive). */
  readonly activatesAt: string | null;
  readonly deactivatedAt: string | null;
  readonly destroyedAt: string | null;
  /** When a scheduled destruction takes effect, or null. While set, the instance refuses use. */
  readonly destroyAt: string | null;
  /** End of originator use: from then it never encrypts (null: none). */
  readonly protectStopAt: string | null;
  /** End of recipient use: from then it is Deactivated (null: none). */
  readonly processStopAt: string | null;
  /** Start of recipient use, when its creator set one: before it, it never decrypts (absent: none). */
  readonly processStartAt?: string;
  /** The reason Revoke gave (REVOCATION_REASONS), or null: not revoked (or revoked before the appliance kept it). */
  readonly revocationReason: string | null;
  /** When Revoke marked it compromised, or null. */
  readonly compromisedAt: string | null;
  /** When the compromise occurred (Revoke's compromiseDate, else when it was revoked), or null. */
  readonly compromiseOccurredAt: string | null;
  /**
   * True until its material was first served to a client (a Get that
   * returned it: KMIP Fresh); false for instances made before the appliance
   * kept this (not known, so not claimed).
   */
  readonly fresh: boolean;
}
