/**
 * Which OASIS profiles the appliance claims, and why it does not claim the
 * others. A claimed profile is one whose every *mandatory* case, in the
 * version named, passes against a real appliance
 * (test/kmip/oasis-conformance.test.ts asserts it): the OASIS profiles'
 * conformance clauses require the mandatory test cases, and the optional
 * ones exercise features a server may leave out. Every case is played all
 * the same, and the table in docs/kmip.md shows how each fares. Grow CLAIMED_PROFILES as the
 * operations land; a reason below is for a profile that stays unclaimed
 * by design, the default for one still being built.
 */
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
  { version: '1.4', profile: 'OMOS' },
  { version: '2.1', profile: 'OMOS' },
];

/** Why a profile is not claimed, when it is by design (not merely unfinished). */
export const UNCLAIMED_REASONS: Readonly<Record<string, string>> = {
  AKLC: 'key pairs are not generated: the appliance keeps public and private keys it is given (Register), but has no Create Key Pair',
  'CS-AC': 'asymmetric cryptography (RSA, ECDSA sign, verify, OAEP): the appliance keeps public and private keys it is given but does no cryptography with them',
  SUITEB_128: 'Suite B: key pairs, certificates, signatures: the appliance keeps public and private keys and certificates but neither makes nor uses them',
  SUITEB_192: 'Suite B: key pairs, certificates, signatures: the appliance keeps public and private keys and certificates but neither makes nor uses them',
  PKCS11: 'the PKCS#11 operation (KMIP 2.1 §6.1.36) is not served: applications use PKCS#11 against their own token',
  'CS-BC': 'all but three cases (CS-BC-M-1, -2, -3) are known-answer tests on a key registered with given bytes, which the appliance refuses for every algorithm it generates (CALLER_MATERIAL_REFUSED: no single client plants key material; the ChaCha20 cases register theirs too)',
  SKFF: 'three cases (SKFF-M-4, -8, -12) make 3DES keys, which the appliance does not make (AES and HMAC only)',
  BL: 'BL-M-1, -2, -3 register AES keys (CALLER_MATERIAL_REFUSED here; the dual-controlled key import makes them Pending, then approved: with it BL-M-2 still needs Check and a batch Undo, BL-M-3 Check and Get in the Transparent Symmetric Key format it was registered in); BL-M-4 and -7 set Protect Stop and Deactivation Dates at Register, which the native Register takes only as usage periods; BL-M-12 and -13 register DSA keys (not kept: FIPS 186-5 retired DSA) with Sensitive and Fresh',
  'MSGENC-HTTPS': 'KMIP over HTTPS is not served: the appliance serves TTLV over mutual TLS on the KMIP port',
  'MSGENC-JSON': 'the JSON encoding is not served over HTTPS; the case is played through the codec (each message written as JSON and read back, then sent as TTLV), which shows the codec, not a served encoding',
  'MSGENC-XML': 'the XML encoding is not served over HTTPS; the case is played through the codec (each message written as XML and read back, then sent as TTLV), which shows the codec, not a served encoding',
};

export const STILL_BUILDING = 'not yet: the operations it needs are being built';

/** How the MSGENC cases are played: the text encoding each message goes through on its way. */
export const CODEC_ROUND_TRIP: Readonly<Record<string, 'json' | 'xml'>> = { 'MSGENC-JSON': 'json', 'MSGENC-XML': 'xml' };

export function isClaimed(version: OasisVersion, profile: string): boolean {
  return CLAIMED_PROFILES.some((claimed) => claimed.version === version && claimed.profile === profile);
}

/** Whether a case's outcome decides a claim: a mandatory case of a claimed profile. */
export function decidesClaim(testCase: Pick<OasisCase, 'version' | 'profile' | 'kind'>): boolean {
  return testCase.kind === 'mandatory' && isClaimed(testCase.version, testCase.profile);
}

export function unclaimedReason(profile: string): string {
  return UNCLAIMED_REASONS[profile] ?? STILL_BUILDING;
}
