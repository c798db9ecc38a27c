/**
 * Typed errors. One base class carries a stable `code` from common/error-codes;
 * families are subclasses so that a layer can catch its own kind. Causes are
 * wrapped with `{ cause }`. Messages never include key material: callers pass
 * names and ids, never bytes.
 */
import { ErrorCode, exitCodeFor, ExitCode } from './error-codes';

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;
export type StrongroomErrorOptions = { cause?: unknown; details?: ErrorDetails };

export class StrongroomError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: StrongroomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.code);
  }

  /** The shape sent over the wire and printed by `--json`. */
  toJSON(): { code: ErrorCode; message: string; details?: ErrorDetails } {
    return Object.keys(this.details).length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

/** Errors from the HSM port (hsm/). */
export class HsmError extends StrongroomError {}
/** Errors from the keychain store (storage/). */
export class StorageError extends StrongroomError {}
/** Errors from the keychain's domain rules (domain/): keys, instances, sealing, integrity. */
export class KeychainError extends StrongroomError {}

/*
 * Families by what the code means, wherever it is thrown: each takes only its
 * own codes, so a family is a promise about its code. Callers still branch on
 * `code` (the stable interface), never on the class.
 */

export type AccessErrorCode = Extract<ErrorCode, 'PERMISSION_DENIED' | 'UNAUTHENTICATED' | 'CALLER_MATERIAL_REFUSED' | 'CLEAR_IMPORT_DISABLED'>;
/** Who may do what: no grant, a role without the right, no valid identity, material no caller may supply (or not in the clear). */
export class AccessError extends StrongroomError {
  constructor(code: AccessErrorCode, message: string, options: StrongroomErrorOptions = {}) {
    super(code, message, options);
  }
}

export type ApprovalErrorCode = Extract<ErrorCode, `APPROVAL_${string}` | 'DUAL_CONTROL_LOCAL_MODE'>;
/** Dual control: approval requests, their votes and quorums, and what local mode refuses for want of approvers. */
export class ApprovalError extends StrongroomError {
  constructor(code: ApprovalErrorCode, message: string, options: StrongroomErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The audit trail could not be written, so the result is withheld (fail closed). */
export class AuditError extends StrongroomError {
  constructor(code: Extract<ErrorCode, 'AUDIT_UNAVAILABLE'>, message: string, options: StrongroomErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Bad input from a caller: arguments, names, config values. */
export class ValidationError extends StrongroomError {
  constructor(message: string, options: StrongroomErrorOptions = {}) {
    super('INVALID_ARGUMENT', message, options);
  }
}
export class ConfigError extends StrongroomError {
  constructor(message: string, options: StrongroomErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

export function isStrongroomError(err: unknown): err is StrongroomError {
  return err instanceof StrongroomError;
}

/** Wraps anything thrown into a StrongroomError without losing it. */
export function asStrongroomError(err: unknown): StrongroomError {
  if (err instanceof StrongroomError) return err;
  return new StrongroomError('INTERNAL_ERROR', 'unexpected internal error', { cause: err });
}
