/**
 * Resolving Strongroom's token objects by label, and refusing any that are
 * not what Strongroom itself would have created.
 *
 * A PKCS#11 label is free text: anyone holding the user PIN (another
 * application on the same token, an operator with pkcs11-tool) can create a
 * key labelled `strongroom-master-v1` that is extractable, imported from
 * known bytes, or not AES at all, or a second one beside ours. So resolving
 * a label requires exactly one matching object and checks the attributes
 * that make it safe to use (PKCS#11 v2.40 §4.4, §4.9, §4.10): a token object
 * of the right type and size, CKA_SENSITIVE and not CKA_EXTRACTABLE, and
 * CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE, which the token sets only
 * for a key generated inside it (an imported key has known bytes). Anything
 * else is HSM_ERROR with `details` {label, reason}; messages name the
 * attribute, never a value.
 *
 * The one exception is a master key the operator imported on purpose into
 * several tokens, so that a second appliance opens the first one's backups
 * (docs/backup.md §6): the versions named in `hsm_imported_master_keys`
 * need not carry the two "generated here" attributes, which no token sets
 * on written or unwrapped bytes (PKCS#11 v2.40 §4.9: they are false on any
 * key that was once outside it). Everything else is still required.
 */
import { endianness } from 'node:os';
import * as pkcs11js from 'pkcs11js';
import { HsmError } from '../common/errors';
import { masterKeyLabel, SIGNING_KEY_LABEL } from './hsm-port';
import { ckrName, hsmError } from './pkcs11-errors';
import { findObjects, MASTER_KEY_BYTES, P256_EC_PARAMS } from './pkcs11-objects';

/** One attribute a resolved object must have, and the `reason` reported when it does not. */
interface Requirement {
  readonly type: number;
  readonly name: string;
  readonly expected: boolean | number | Buffer;
  readonly reason: string;
}

const MASTER_KEY_REQUIREMENTS: readonly Requirement[] = [
  { type: pkcs11js.CKA_TOKEN, name: 'CKA_TOKEN', expected: true, reason: 'not-token-object' },
  { type: pkcs11js.CKA_KEY_TYPE, name: 'CKA_KEY_TYPE', expected: pkcs11js.CKK_AES, reason: 'not-aes' },
  { type: pkcs11js.CKA_VALUE_LEN, name: 'CKA_VALUE_LEN', expected: MASTER_KEY_BYTES, reason: 'wrong-length' },
  { type: pkcs11js.CKA_SENSITIVE, name: 'CKA_SENSITIVE', expected: true, reason: 'not-sensitive' },
  { type: pkcs11js.CKA_EXTRACTABLE, name: 'CKA_EXTRACTABLE', expected: false, reason: 'extractable' },
  { type: pkcs11js.CKA_ALWAYS_SENSITIVE, name: 'CKA_ALWAYS_SENSITIVE', expected: true, reason: 'not-always-sensitive' },
  { type: pkcs11js.CKA_NEVER_EXTRACTABLE, name: 'CKA_NEVER_EXTRACTABLE', expected: true, reason: 'was-extractable' },
];

/** What an imported master key must still be: everything except "generated in this token". */
const IMPORTED_MASTER_KEY_REQUIREMENTS: readonly Requirement[] = MASTER_KEY_REQUIREMENTS.filter(
  (r) => r.type !== pkcs11js.CKA_ALWAYS_SENSITIVE && r.type !== pkcs11js.CKA_NEVER_EXTRACTABLE,
);

const SIGNING_PRIVATE_REQUIREMENTS: readonly Requirement[] = [
  { type: pkcs11js.CKA_TOKEN, name: 'CKA_TOKEN', expected: true, reason: 'not-token-object' },
  { type: pkcs11js.CKA_KEY_TYPE, name: 'CKA_KEY_TYPE', expected: pkcs11js.CKK_EC, reason: 'not-ec' },
  { type: pkcs11js.CKA_EC_PARAMS, name: 'CKA_EC_PARAMS', expected: P256_EC_PARAMS, reason: 'not-p256' },
  { type: pkcs11js.CKA_SIGN, name: 'CKA_SIGN', expected: true, reason: 'cannot-sign' },
  { type: pkcs11js.CKA_SENSITIVE, name: 'CKA_SENSITIVE', expected: true, reason: 'not-sensitive' },
  { type: pkcs11js.CKA_EXTRACTABLE, name: 'CKA_EXTRACTABLE', expected: false, reason: 'extractable' },
  { type: pkcs11js.CKA_ALWAYS_SENSITIVE, name: 'CKA_ALWAYS_SENSITIVE', expected: true, reason: 'not-always-sensitive' },
  { type: pkcs11js.CKA_NEVER_EXTRACTABLE, name: 'CKA_NEVER_EXTRACTABLE', expected: true, reason: 'was-extractable' },
];

const SIGNING_PUBLIC_REQUIREMENTS: readonly Requirement[] = [
  { type: pkcs11js.CKA_TOKEN, name: 'CKA_TOKEN', expected: true, reason: 'not-token-object' },
  { type: pkcs11js.CKA_KEY_TYPE, name: 'CKA_KEY_TYPE', expected: pkcs11js.CKK_EC, reason: 'not-ec' },
  { type: pkcs11js.CKA_EC_PARAMS, name: 'CKA_EC_PARAMS', expected: P256_EC_PARAMS, reason: 'not-p256' },
];

/** A key object refused: says which label and what is wrong with it. */
export function refusedObject(label: string, reason: string, what: string): HsmError {
  return new HsmError('HSM_ERROR', `the token object labelled '${label}' ${what}; Strongroom will not use it`, {
    details: { label, reason },
  });
}

/** Every object labelled `label`, of any class. */
export function findAllByLabel(pkcs11: pkcs11js.PKCS11, session: Buffer, label: string): Buffer[] {
  return findObjects(pkcs11, session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
}

/**
 * The handle of master key `version`, checked; HSM_MASTER_KEY_MISSING when
 * no object has its label, HSM_ERROR when several do or the one that does is
 * not a generated, sensitive, non-extractable AES-256 token key (`imported`:
 * the operator declared this version imported, so "generated" is not asked).
 */
export function resolveMasterKey(pkcs11: pkcs11js.PKCS11, session: Buffer, version: number, tokenLabel: string, imported = false): Buffer {
  const label = masterKeyLabel(version);
  const found = findAllByLabel(pkcs11, session, label);
  if (found.length === 0) {
    throw new HsmError('HSM_MASTER_KEY_MISSING', `master key version ${version} is not in the token '${tokenLabel}'`, {
      details: { version },
    });
  }
  if (found.length > 1) throw duplicate(label, found.length);
  const [handle] = found;
  requireClass(pkcs11, session, handle, label, pkcs11js.CKO_SECRET_KEY, 'a secret key');
  requireAttributes(pkcs11, session, handle, label, imported ? IMPORTED_MASTER_KEY_REQUIREMENTS : MASTER_KEY_REQUIREMENTS);
  return handle;
}

/** Handles of the signing key pair, checked. */
export interface SigningPair {
  readonly privateKey: Buffer;
  readonly publicKey: Buffer;
}

/**
 * The signing key pair, checked, or null when the token holds no object of
 * either half with the signing label. The private key is found by label and
 * must be a generated, sensitive, non-extractable P-256 signing key with a
 * CKA_ID; the public key is the one object of that label with the same
 * CKA_ID. Anything else (duplicates, half a pair, another curve) is HSM_ERROR.
 */
export function resolveSigningPair(pkcs11: pkcs11js.PKCS11, session: Buffer): SigningPair | null {
  const label = SIGNING_KEY_LABEL;
  const privates = findObjects(pkcs11, session, classAndLabel(pkcs11js.CKO_PRIVATE_KEY, label));
  if (privates.length === 0) {
    const publics = findObjects(pkcs11, session, classAndLabel(pkcs11js.CKO_PUBLIC_KEY, label));
    if (publics.length === 0) return null;
    throw refusedObject(label, 'half-pair', 'is a public key without its private key; remove it or restore the other half');
  }
  if (privates.length > 1) throw duplicate(label, privates.length);
  const [privateKey] = privates;
  requireAttributes(pkcs11, session, privateKey, label, SIGNING_PRIVATE_REQUIREMENTS);
  const id = readAttributes(pkcs11, session, privateKey, label, [pkcs11js.CKA_ID])[0];
  if (id.length === 0) throw refusedObject(label, 'no-id', 'is a private key without a CKA_ID to find its public key by');
  const publics = findObjects(pkcs11, session, [
    ...classAndLabel(pkcs11js.CKO_PUBLIC_KEY, label),
    { type: pkcs11js.CKA_ID, value: id },
  ]);
  if (publics.length === 0) {
    throw refusedObject(label, 'half-pair', 'is a private key without a public key of the same CKA_ID; remove it or restore the other half');
  }
  if (publics.length > 1) throw duplicate(label, publics.length);
  const [publicKey] = publics;
  requireAttributes(pkcs11, session, publicKey, label, SIGNING_PUBLIC_REQUIREMENTS);
  return { privateKey, publicKey };
}

function classAndLabel(objectClass: number, label: string): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    { type: pkcs11js.CKA_LABEL, value: label },
  ];
}

function duplicate(label: string, count: number): HsmError {
  return refusedObject(label, 'duplicate', `is not unique (${count} objects carry that label); remove the ones Strongroom did not create`);
}

function requireClass(
  pkcs11: pkcs11js.PKCS11, session: Buffer, handle: Buffer, label: string, objectClass: number, what: string,
): void {
  const [value] = readAttributes(pkcs11, session, handle, label, [pkcs11js.CKA_CLASS]);
  if (decodeUlong(value) !== objectClass) throw refusedObject(label, 'wrong-class', `is not ${what}`);
}

function requireAttributes(
  pkcs11: pkcs11js.PKCS11, session: Buffer, handle: Buffer, label: string, requirements: readonly Requirement[],
): void {
  const values = readAttributes(pkcs11, session, handle, label, requirements.map((r) => r.type));
  requirements.forEach((requirement, index) => {
    if (!matches(values[index], requirement.expected)) {
      throw refusedObject(label, requirement.reason, `does not have the expected ${requirement.name}`);
    }
  });
}

/**
 * Reads `types` in one C_GetAttributeValue. An object lacking one of them
 * (CKR_ATTRIBUTE_TYPE_INVALID: e.g. an EC key has no CKA_VALUE_LEN) is
 * refused as the wrong kind of object rather than reported as a token fault.
 */
function readAttributes(pkcs11: pkcs11js.PKCS11, session: Buffer, handle: Buffer, label: string, types: number[]): Buffer[] {
  let attributes: pkcs11js.Attribute[];
  try {
    attributes = pkcs11.C_GetAttributeValue(session, handle, types.map((type) => ({ type })));
  } catch (err) {
    const name = ckrName(err);
    if (name === 'CKR_ATTRIBUTE_TYPE_INVALID' || name === 'CKR_ATTRIBUTE_SENSITIVE') {
      throw refusedObject(label, 'unexpected-kind', 'lacks attributes a Strongroom key has');
    }
    throw hsmError(err, 'C_GetAttributeValue');
  }
  return attributes.map((attribute) => (Buffer.isBuffer(attribute.value) ? attribute.value : Buffer.alloc(0)));
}

function matches(value: Buffer, expected: boolean | number | Buffer): boolean {
  if (typeof expected === 'boolean') return value.length === 1 && (value[0] !== 0) === expected;
  if (typeof expected === 'number') return decodeUlong(value) === expected;
  return value.equals(expected);
}

/** A CK_ULONG as the token wrote it: 4 or 8 bytes in host byte order; NaN for anything else. */
function decodeUlong(value: Buffer): number {
  const le = endianness() === 'LE';
  if (value.length === 4) return le ? value.readUInt32LE(0) : value.readUInt32BE(0);
  if (value.length === 8) return Number(le ? value.readBigUInt64LE(0) : value.readBigUInt64BE(0));
  return Number.NaN;
}
