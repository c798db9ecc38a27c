/**
 * Opening a logged-in session on the token with a given label: find the
 * slot by label (SoftHSM2 moves a freshly initialised token to a random slot
 * id, and real HSMs number slots as they like: never assume slot 0), read its
 * mechanism list once, open an R/W serial session and C_Login as CKU_USER.
 */
import * as pkcs11js from 'pkcs11js';
import { HsmError } from '../common/errors';
import { hsmError, isCkr, loginError } from './pkcs11-errors';
import { ModuleLease, safely } from './pkcs11-module';

/** A logged-in session and what was learnt about its token at open. */
export interface TokenSession {
  readonly slot: Buffer;
  readonly session: Buffer;
  readonly label: string;
  /** The token's mechanisms (C_GetMechanismList, read once). */
  readonly mechanisms: ReadonlySet<number>;
}

/** PKCS#11 token labels are 32 bytes, blank padded. */
export const MAX_TOKEN_LABEL_BYTES = 32;

export function openTokenSession(lease: ModuleLease, tokenLabel: string, pin: Buffer): TokenSession {
  const { pkcs11 } = lease;
  const slot = findSlot(pkcs11, tokenLabel);
  const mechanisms = call('C_GetMechanismList', () => new Set(pkcs11.C_GetMechanismList(slot)));
  const session = call('C_OpenSession', () =>
    pkcs11.C_OpenSession(slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION),
  );
  try {
    login(pkcs11, session, tokenLabel, pin);
  } catch (err) {
    safely(() => pkcs11.C_CloseSession(session));
    throw err;
  }
  lease.retainLogin(slot);
  return { slot, session, label: tokenLabel, mechanisms };
}

function findSlot(pkcs11: pkcs11js.PKCS11, tokenLabel: string): Buffer {
  if (tokenLabel.length === 0 || Buffer.byteLength(tokenLabel, 'utf8') > MAX_TOKEN_LABEL_BYTES) {
    throw new HsmError('HSM_TOKEN_NOT_FOUND', `token label must be 1..${MAX_TOKEN_LABEL_BYTES} bytes; check hsm_token_label`);
  }
  const seen: string[] = [];
  for (const slot of call('C_GetSlotList', () => pkcs11.C_GetSlotList(true))) {
    const label = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot)).label.trimEnd();
    if (label === tokenLabel) return slot;
    if (label !== '') seen.push(label);
  }
  const list = seen.length > 0 ? seen.map((l) => `'${l}'`).join(', ') : 'none';
  throw new HsmError(
    'HSM_TOKEN_NOT_FOUND',
    `no token labelled '${tokenLabel}'; tokens present: ${list}; check hsm_token_label`,
    { details: { label: tokenLabel, seen: seen.join(',') } },
  );
}

function login(pkcs11: pkcs11js.PKCS11, session: Buffer, tokenLabel: string, pin: Buffer): void {
  try {
    // pkcs11js takes the PIN as a string: made for this call only, never kept.
    pkcs11.C_Login(session, pkcs11js.CKU_USER, pin.toString('utf8'));
  } catch (err) {
    // Login state is per token per process: another port already logged in.
    if (isCkr(err, 'CKR_USER_ALREADY_LOGGED_IN')) return;
    throw loginError(err, tokenLabel);
  }
}

function call<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw hsmError(err, operation);
  }
}
