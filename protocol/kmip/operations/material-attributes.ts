/**
 * The KMIP attributes that speak of an object's material (docs/kmip.md
 * §3.5), encoded from what native GetAttributes says of it
 * (domain/keys/material-facts.ts): nothing here is decided by the KMIP
 * layer, only spelled.
 * - Digest (KMIP 1.0+): {Hashing Algorithm SHA-256, Digest Value, Key
 *   Format Type Raw}, when native GetAttributes was asked for it and gave
 *   one (none for Secret Data, none once destroyed).
 * - Random Number Generator (1.3+): the generator the material was drawn
 *   from, as RNG Parameters {RNG Algorithm DRBG, Cryptographic Algorithm
 *   AES, Cryptographic Length 256, DRBG Algorithm CTR} (KMIP 2.1 §4.35);
 *   none for material a caller gave.
 * - Sensitive, Always Sensitive, Extractable, Never Extractable (1.4+):
 *   Sensitive is what the key's creator set (Get then refuses the material
 *   in the clear); it never changes, so Always Sensitive is the same.
 *   Extractable is true (Never Extractable false): Get serves every other
 *   key's material to a client with the grant.
 * Pure.
 */
import type { MaterialDigest, MaterialFacts } from '../../../domain/keys/material-facts';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { booleanItem, bytesItem, enumItem, integerItem, structureItem } from './payload';

/** The attributes this file reports, by tag name (2.x spelling). */
export const MATERIAL_TAGS = ['AlwaysSensitive', 'Digest', 'Extractable', 'NeverExtractable', 'RandomNumberGenerator', 'Sensitive'] as const;
export type MaterialTag = (typeof MATERIAL_TAGS)[number];

/** What native GetAttributes answers of the material (digest: only when asked; null: none to give). */
export interface MaterialView {
  readonly material?: MaterialFacts;
  readonly digest?: MaterialDigest | null;
}

const HASHING_ALGORITHMS: Readonly<Record<MaterialDigest['algorithm'], string>> = { 'SHA-256': 'SHA_256' };
const KEY_FORMATS: Readonly<Record<MaterialDigest['format'], string>> = { raw: 'Raw' };
const DRBG_ALGORITHMS: Readonly<Record<NonNullable<MaterialFacts['generator']>['drbg'], string>> = { CTR_DRBG: 'CTR' };

/** The version an attribute first appeared in: a client of an earlier one would not know its name. */
const since = (version: ProtocolVersion, major: number, minor: number): boolean => version.major > major || (version.major === major && version.minor >= minor);

function digestItem(digest: MaterialDigest): TtlvNode {
  return structureItem('Digest', [
    enumItem('HashingAlgorithm', HASHING_ALGORITHMS[digest.algorithm]),
    bytesItem('DigestValue', Buffer.from(digest.value, 'hex')),
    enumItem('KeyFormatType', KEY_FORMATS[digest.format]),
  ]);
}

function generatorItem(generator: NonNullable<MaterialFacts['generator']>): TtlvNode {
  return structureItem('RandomNumberGenerator', [
    enumItem('RNGAlgorithm', generator.kind),
    enumItem('CryptographicAlgorithm', generator.cipher),
    integerItem('CryptographicLength', generator.bits),
    enumItem('DRBGAlgorithm', DRBG_ALGORITHMS[generator.drbg]),
  ]);
}

/** Each material attribute's value (undefined: not reported) in the request's version. */
export function materialAttributes(view: MaterialView, version: ProtocolVersion): Record<MaterialTag, TtlvNode | undefined> {
  const facts = view.material;
  const flags = facts !== undefined && since(version, 1, 4);
  return {
    AlwaysSensitive: flags ? booleanItem('AlwaysSensitive', facts.sensitive) : undefined,
    Digest: view.digest === undefined || view.digest === null ? undefined : digestItem(view.digest),
    Extractable: flags ? booleanItem('Extractable', facts.extractable) : undefined,
    NeverExtractable: flags ? booleanItem('NeverExtractable', !facts.extractable) : undefined,
    RandomNumberGenerator: facts?.generator != null && since(version, 1, 3) ? generatorItem(facts.generator) : undefined,
    Sensitive: flags ? booleanItem('Sensitive', facts.sensitive) : undefined,
  };
}
