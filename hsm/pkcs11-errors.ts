/**
 * Maps PKCS#11 return values (CKR_*) raised by pkcs11js to Strongroom's typed
 * HsmErrors. pkcs11js throws a `Pkcs11Error` whose message is the CKR name
 * (e.g. `CKR_PIN_INCORRECT`) and whose `code` is the numeric CK_RV; anything
 * else it throws is a `NativeError` or a TypeError (bad arguments to the
 * binding). Messages carry the CKR name and the operation, never a PIN or key
 * bytes; the original error is kept as `cause`.
 */
import { HsmError, isStrongroomError, StrongroomError } from '../common/errors';
import type { ErrorCode } from '../common/error-codes';

/** The CKR name of a pkcs11js error (`CKR_PIN_INCORRECT`), or null when it is not a PKCS#11 return value. */
export function ckrName(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const match = /^(CKR_[A-Z0-9_]+)/.exec(err.message);
  return match ? match[1] : null;
}

/** True when `err` is the PKCS#11 return value `name`. */
export function isCkr(err: unknown, name: string): boolean {
  return ckrName(err) === name;
}

/**
 * Return values with which any token rejects the bytes given to C_UnwrapKey
 * under a key that does not open them (altered or truncated bytes, another
 * token's key). CKR_FUNCTION_FAILED is NOT among them: it is a token fault,
 * reported as HSM_ERROR.
 */
const UNWRAP_REJECTIONS: ReadonlySet<string> = new Set([
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
]);

/** CK_TOKEN_INFO.manufacturerID of SoftHSM2 (blank padding trimmed). */
export const SOFTHSM_MANUFACTURER = 'SoftHSM project';

/**
 * True when `err`, thrown by C_UnwrapKey on a token made by `manufacturer`,
 * is the token's refusal to unwrap the given bytes (MASTER_KEY_MISMATCH)
 * rather than a fault of the token (HSM_ERROR).
 *
 * SoftHSM2 2.6.1 (OpenSSL 3 backend) reports a failed AES-KWP integrity
 * check as CKR_GENERAL_ERROR instead of CKR_WRAPPED_KEY_INVALID, so for that
 * token only, CKR_GENERAL_ERROR during an unwrap means "these bytes do not
 * open". On any other token CKR_GENERAL_ERROR is what PKCS#11 says it is, an
 * unrecoverable token error, and must not be mistaken for a wrong master key.
 */
export function isUnwrapRejection(err: unknown, manufacturer: string): boolean {
  const name = ckrName(err);
  if (name === null) return false;
  if (UNWRAP_REJECTIONS.has(name)) return true;
  return name === 'CKR_GENERAL_ERROR' && manufacturer === SOFTHSM_MANUFACTURER;
}

/**
 * Wraps whatever a pkcs11js call threw during `operation` as an HsmError.
 * StrongroomErrors (already typed) pass through unchanged. `code` defaults to HSM_ERROR.
 */
export function hsmError(err: unknown, operation: string, code: ErrorCode = 'HSM_ERROR'): StrongroomError {
  if (isStrongroomError(err)) return err;
  const name = ckrName(err);
  const what = name ?? (err instanceof Error ? err.name : 'unknown error');
  return new HsmError(code, `PKCS#11 ${operation} failed: ${what}`, {
    cause: err,
    details: name === null ? { operation } : { operation, ckr: name },
  });
}

/**
 * Return values meaning "this is not the PIN": a PIN of a length the token
 * cannot hold is as wrong as any other.
 */
const PIN_REFUSALS: ReadonlySet<string> = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_INVALID']);

/**
 * Maps a C_Login failure. The PIN itself never appears: only which check
 * the token said failed.
 */
export function loginError(err: unknown, tokenLabel: string): StrongroomError {
  const name = ckrName(err);
  if (name !== null && PIN_REFUSALS.has(name)) {
    return new HsmError('HSM_PIN_INCORRECT', `the token '${tokenLabel}' refused the user PIN`, {
      cause: err,
      details: { token: tokenLabel },
    });
  }
  if (name === 'CKR_PIN_LOCKED') {
    return new HsmError(
      'HSM_PIN_LOCKED',
      `the user PIN of token '${tokenLabel}' is locked after too many failures; the SO must reset it`,
      { cause: err, details: { token: tokenLabel } },
    );
  }
  return hsmError(err, 'C_Login');
}
