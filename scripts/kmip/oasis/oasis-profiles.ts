/**
 * Which OASIS profiles the appliance claims, and why it does not claim the
 * others. A claimed profile is one whose every *mandatory* case, in the
 * version named, passes against a real appliance
 * (test/kmip/oasis-conformance.test.ts asserts it): the OASIS profiles'
 * conformance clauses require the mandatory test cases, and the optional
 * ones exercise features a server may leave out. Every case is played all
 * the same, and the table in docs/kmip.md shows how each fares. Grow CLAIMED_PROFILES as the
 * operations land; a reason below is for a profile that stays unclaimed
 * by design, the default for one still being built. A few mandatory cases
 * may be excluded from a claim by design (EXCLUDED_CASES, each with its
 * reason): the table shows them as excluded and counts them on the
 * profile's row, so the claim reads as no more than it is.
 */
import { KmipHttpEncoding } from '../../../protocol/kmip/kmip-http';
import { OasisCase, OasisVersion } from './oasis-cases';

export interface ProfileKey {
  readonly version: OasisVersion;
  readonly profile: string;
}

/**
 * Every mandatory case of these passes (asserted by the conformance test);
 * add a profile here in the change that makes its last mandatory case pass
 * (docs/kmip.md §6.3 shows each case).
 */
export const CLAIMED_PROFILES: readonly ProfileKey[] = [
  { version: '1.4', profile: 'CS-RNG' },
  { version: '2.1', profile: 'CS-RNG' },
  { version: '1.4', profile: 'MSGENC-HTTPS' },
  { version: '2.1', profile: 'MSGENC-HTTPS' },
  { version: '1.4', profile: 'MSGENC-JSON' },
  { version: '2.1', profile: 'MSGENC-JSON' },
  { version: '1.4', profile: 'MSGENC-XML' },
  { version: '2.1', profile: 'MSGENC-XML' },
  { version: '1.4', profile: 'SASED' },
  { version: '2.1', profile: 'SASED' },
  { version: '2.1', profile: 'QS' },
  { version: '1.4', profile: 'SKLC' },
  { version: '2.1', profile: 'SKLC' },
  { version: '1.4', profile: 'OMOS' },
  { version: '2.1', profile: 'OMOS' },
  { version: '1.4', profile: 'CS-BC' },
  { version: '2.1', profile: 'CS-BC' },
  { version: '1.4', profile: 'SKFF' },
  { version: '2.1', profile: 'SKFF' },
  { version: '1.4', profile: 'TL' },
  { version: '2.1', profile: 'TL' },
  { version: '2.1', profile: 'BL' },
];

const THREE_DES =
  '3DES: the appliance makes AES (and HMAC, ChaCha20) keys only; NIST SP 800-131A Rev. 2 disallows 3DES for encryption after 2023 (issue 13 asks for SKFF (AES))';

/**
 * Mandatory cases excluded from a claim by design, by case name, each with
 * its reason. Few and named: at most MAX_EXCLUDED_SHARE of a profile's
 * mandatory cases, each a real mandatory case that does not pass (the
 * conformance test holds all three), so a claim cannot be made by
 * excluding what fails.
 */
export const EXCLUDED_CASES: Readonly<Record<string, string>> = {
  'SKFF-M-4-14': THREE_DES,
  'SKFF-M-8-14': THREE_DES,
  'SKFF-M-12-14': THREE_DES,
  'SKFF-M-4-21': THREE_DES,
  'SKFF-M-8-21': THREE_DES,
  'SKFF-M-12-21': THREE_DES,
};

/** The largest share of a profile's mandatory cases that may be excluded from its claim. */
export const MAX_EXCLUDED_SHARE = 0.25;

/** Why a case is excluded from its profile's claim, or undefined when it is not. */
export function exclusionOf(testCase: Pick<OasisCase, 'name' | 'kind'>): string | undefined {
  return testCase.kind === 'mandatory' ? EXCLUDED_CASES[testCase.name] : undefined;
}

/** Why a profile is not claimed, when it is by design (not merely unfinished). */
export const UNCLAIMED_REASONS: Readonly<Record<string, string>> = {
  AKLC: 'key pairs are not generated: the appliance keeps public and private keys it is given (Register), but has no Create Key Pair',
  'CS-AC': 'asymmetric cryptography (RSA, ECDSA sign, verify, OAEP): the appliance keeps public and private keys it is given but does no cryptography with them',
  SUITEB_128: 'Suite B: key pairs, certificates, signatures: the appliance keeps public and private keys and certificates but neither makes nor uses them',
  SUITEB_192: 'Suite B: key pairs, certificates, signatures: the appliance keeps public and private keys and certificates but neither makes nor uses them',
  PKCS11: 'the PKCS#11 operation (KMIP 2.1 §6.1.36) is not served: applications use PKCS#11 against their own token',
};

export const STILL_BUILDING = 'not yet: the operations it needs are being built';

/** The profiles played over KMIP over HTTPS (kmip_https_port), and the encoding each sends its messages in. */
export const HTTPS_PROFILES: Readonly<Record<string, KmipHttpEncoding>> = { 'MSGENC-HTTPS': 'ttlv', 'MSGENC-JSON': 'json', 'MSGENC-XML': 'xml' };

export function isClaimed(version: OasisVersion, profile: string): boolean {
  return CLAIMED_PROFILES.some((claimed) => claimed.version === version && claimed.profile === profile);
}

/** Whether a case's outcome decides a claim: a mandatory case of a claimed profile, not excluded by design. */
export function decidesClaim(testCase: Pick<OasisCase, 'name' | 'version' | 'profile' | 'kind'>): boolean {
  return testCase.kind === 'mandatory' && isClaimed(testCase.version, testCase.profile) && exclusionOf(testCase) === undefined;
}

export function unclaimedReason(profile: string): string {
  return UNCLAIMED_REASONS[profile] ?? STILL_BUILDING;
}
