/**
 * Opening a logged-in session on the token with a given label: find the
 * slot by label (SoftHSM2 moves a freshly initialised token to a random slot
 * id, and real HSMs number slots as they like: never assume slot 0), read its
 * mechanism list once, open an R/W serial session and C_Login as CKU_USER;
 * and, when an operation may have been left active on that session, replace
 * it with a fresh one (reopenTokenSession).
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
  /** CK_TOKEN_INFO.manufacturerID, trimmed: some return values mean different things per vendor. */
  readonly manufacturer: string;
  /** The token's mechanisms (C_GetMechanismList, read once). */
  readonly mechanisms: ReadonlySet<number>;
}

/**
 * CK_STATE of a logged-in R/W user session (PKCS#11 v2.40 §5.6, pkcs11t.h);
 * pkcs11js exports no CKS_* constants.
 */
const CKS_RW_USER_FUNCTIONS = 3;

/** PKCS#11 token labels are 32 bytes, blank padded. */
export const MAX_TOKEN_LABEL_BYTES = 32;

export function openTokenSession(lease: ModuleLease, tokenLabel: string, pin: Buffer): TokenSession {
  const { pkcs11 } = lease;
  const { slot, manufacturer } = findSlot(pkcs11, tokenLabel);
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
  return { slot, session, label: tokenLabel, manufacturer, mechanisms };
}

/**
 * Opens a new session on `token`'s slot to replace `token.session`, then
 * closes the old one; returns the new session. Used after a failed C_Sign:
 * PKCS#11 v2.40 §5.2 ends the operation on most failures but not on
 * CKR_BUFFER_TOO_SMALL, and a token may not follow the rule, so the only
 * portable way to be sure no operation is left active (which would make
 * every later C_SignInit fail with CKR_OPERATION_ACTIVE) is a fresh session.
 * The new one is opened BEFORE the old one closes: closing an application's
 * last session on a token logs it out (v2.40 §5.6, C_CloseSession). No PIN
 * is needed, since login state belongs to the application, not the session;
 * the new session must therefore already be a logged-in R/W one.
 */
export function reopenTokenSession(pkcs11: pkcs11js.PKCS11, token: TokenSession, old: Buffer): Buffer {
  const session = call('C_OpenSession', () =>
    pkcs11.C_OpenSession(token.slot, pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION),
  );
  const state = call('C_GetSessionInfo', () => pkcs11.C_GetSessionInfo(session)).state;
  if (state !== CKS_RW_USER_FUNCTIONS) {
    safely(() => pkcs11.C_CloseSession(session));
    throw new HsmError('HSM_ERROR', `a new session on token '${token.label}' is not logged in; reopen the HSM port`, {
      details: { token: token.label, state },
    });
  }
  safely(() => pkcs11.C_CloseSession(old));
  return session;
}

function findSlot(pkcs11: pkcs11js.PKCS11, tokenLabel: string): { slot: Buffer; manufacturer: string } {
  if (tokenLabel.length === 0 || Buffer.byteLength(tokenLabel, 'utf8') > MAX_TOKEN_LABEL_BYTES) {
    throw new HsmError('HSM_TOKEN_NOT_FOUND', `token label must be 1..${MAX_TOKEN_LABEL_BYTES} bytes; check hsm_token_label`);
  }
  const seen: string[] = [];
  for (const slot of call('C_GetSlotList', () => pkcs11.C_GetSlotList(true))) {
    const info = call('C_GetTokenInfo', () => pkcs11.C_GetTokenInfo(slot));
    const label = info.label.trimEnd();
    if (label === tokenLabel) return { slot, manufacturer: info.manufacturerID.trim() };
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
    // Known limitation: pkcs11js 2.x declares C_Login(session, userType, pin?: string)
    // and has no Buffer form, so the PIN is copied into a V8 string here. That
    // string is made for this call only and never kept, but V8 strings are
    // immutable and cannot be zeroed: the PIN lives in the JS heap until the
    // garbage collector reuses that memory (a heap snapshot or core dump taken
    // meanwhile would show it). The caller's Buffer is still zeroed by the caller.
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
