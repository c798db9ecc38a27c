/**
 * The PKCS#11 object templates Strongroom creates, and small object helpers
 * (find objects, read an attribute, EC point to SPKI PEM). Resolving a
 * Strongroom key by its label, with the checks that it is one Strongroom
 * made, is hsm/pkcs11-key-checks.ts.
 *
 * Templates were checked against SoftHSM2 2.6.1: it accepts every attribute
 * listed here. Key material to wrap is imported as CKK_GENERIC_SECRET rather
 * than CKK_AES because the port allows 16..64 bytes, and an AES key object
 * only admits 16, 24 or 32 (PKCS#11 v2.40 §2.8.1); AES-KWP wraps any secret key.
 */
import { createPublicKey } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { HsmError } from '../common/errors';
import { masterKeyLabel, SIGNING_KEY_LABEL } from './hsm-port';

/** AES-256: the master key length in bytes. */
export const MASTER_KEY_BYTES = 32;

/** DER of the OID 1.2.840.10045.3.1.7 (prime256v1 / P-256), the CKA_EC_PARAMS of the signing key. */
export const P256_EC_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

/** Length of an uncompressed P-256 point: 0x04 || X(32) || Y(32). */
const P256_POINT_BYTES = 65;
const P256_COORD_BYTES = 32;

/** Bytes of the random CKA_ID that binds the two halves of the signing key pair. */
export const SIGNING_KEY_ID_BYTES = 16;

/** Bound on one C_FindObjects batch; a token holds a handful of Strongroom objects. */
export const FIND_BATCH = 256;

/** CKA_ID of master key `version`: the version as 4 bytes, big-endian. */
export function masterKeyId(version: number): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(version);
  return id;
}

export function masterKeyTemplate(version: number): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: MASTER_KEY_BYTES },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_WRAP, value: true },
    { type: pkcs11js.CKA_UNWRAP, value: true },
    { type: pkcs11js.CKA_ENCRYPT, value: false },
    { type: pkcs11js.CKA_DECRYPT, value: false },
    { type: pkcs11js.CKA_SIGN, value: false },
    { type: pkcs11js.CKA_VERIFY, value: false },
    { type: pkcs11js.CKA_DERIVE, value: false },
    { type: pkcs11js.CKA_LABEL, value: masterKeyLabel(version) },
    { type: pkcs11js.CKA_ID, value: masterKeyId(version) },
  ];
}

/** A session object (gone when the session closes) that can be wrapped and read back. */
function transientSecretTemplate(): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: false },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
}

/** The template that imports `keyBytes` as a session object for C_WrapKey. */
export function importTemplate(keyBytes: Buffer): pkcs11js.Template {
  return [...transientSecretTemplate(), { type: pkcs11js.CKA_VALUE, value: keyBytes }];
}

/** The template C_UnwrapKey gives the unwrapped session object. */
export function unwrapTemplate(): pkcs11js.Template {
  return transientSecretTemplate();
}

/** `id` (SIGNING_KEY_ID_BYTES random bytes) is shared by both halves: the private key's CKA_ID finds its public key. */
export function signingPublicTemplate(id: Buffer): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: false },
    { type: pkcs11js.CKA_VERIFY, value: true },
    { type: pkcs11js.CKA_EC_PARAMS, value: P256_EC_PARAMS },
    { type: pkcs11js.CKA_LABEL, value: SIGNING_KEY_LABEL },
    { type: pkcs11js.CKA_ID, value: id },
  ];
}

export function signingPrivateTemplate(id: Buffer): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_DERIVE, value: false },
    { type: pkcs11js.CKA_LABEL, value: SIGNING_KEY_LABEL },
    { type: pkcs11js.CKA_ID, value: id },
  ];
}

/** Handles of the objects matching `template` (at most FIND_BATCH). */
export function findObjects(pkcs11: pkcs11js.PKCS11, session: Buffer, template: pkcs11js.Template): Buffer[] {
  pkcs11.C_FindObjectsInit(session, template);
  try {
    return pkcs11.C_FindObjects(session, FIND_BATCH);
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
}

/**
 * The one object of `objectClass` labelled `label`, or null; throws HSM_ERROR
 * when several carry the label, rather than pick one arbitrarily. For
 * inspection only: the port resolves its keys through hsm/pkcs11-key-checks.ts.
 */
export function findByLabel(
  pkcs11: pkcs11js.PKCS11,
  session: Buffer,
  objectClass: number,
  label: string,
): Buffer | null {
  const found = findObjects(pkcs11, session, [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  if (found.length > 1) {
    throw new HsmError('HSM_ERROR', `${found.length} token objects are labelled '${label}'`, {
      details: { label, reason: 'duplicate' },
    });
  }
  return found[0] ?? null;
}

/** A data object on the token (private: readable only after login) holding `value` under `label`. */
export function anchorTemplate(label: string, value: Buffer): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_APPLICATION, value: 'strongroom' },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_VALUE, value },
  ];
}

/** Reads one attribute's raw value. */
export function readAttribute(pkcs11: pkcs11js.PKCS11, session: Buffer, object: Buffer, type: number): Buffer {
  const [attr] = pkcs11.C_GetAttributeValue(session, object, [{ type }]);
  return attr.value;
}

/**
 * CKA_EC_POINT to an SPKI PEM. PKCS#11 v2.40 says CKA_EC_POINT is the DER
 * OCTET STRING wrapping the point (04 41 04||X||Y for P-256, what SoftHSM2
 * returns); some older tokens return the bare point, which is accepted too.
 */
export function ecPointToPem(ecPoint: Buffer): string {
  const point =
    ecPoint.length === P256_POINT_BYTES + 2 && ecPoint[0] === 0x04 && ecPoint[1] === P256_POINT_BYTES
      ? ecPoint.subarray(2)
      : ecPoint;
  if (point.length !== P256_POINT_BYTES || point[0] !== 0x04) {
    throw new HsmError('HSM_ERROR', 'the signing key\'s CKA_EC_POINT is not an uncompressed P-256 point');
  }
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 1 + P256_COORD_BYTES).toString('base64url'),
    y: point.subarray(1 + P256_COORD_BYTES).toString('base64url'),
  };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}
