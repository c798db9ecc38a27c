/**
 * KMIP 1.x's answer when an instance's usage dates refuse a cryptographic
 * operation: Permission Denied, as the OASIS 1.4 cases expect (CS-BC-M-14,
 * CS-AC-M-8: an Encrypt past the Protect Stop Date or a Decrypt before the
 * Process Start Date). 2.x has Wrong Key Lifecycle State for it, the native
 * WRONG_STATE's own reason, and 1.x maps a state refusal to Illegal
 * Operation (common/error-codes.ts): only these date refusals differ.
 */
import { asStrongroomError } from '../../../common/errors';
import { KmipOperationError } from './kmip-operation';

/** The details the native usage-date refusals carry (domain/crypto-rules.ts). */
const DATE_DETAILS = ['protectStopAt', 'processStartAt', 'processStopAt'] as const;

export function usageDateRefusal(err: unknown, major: number): unknown {
  if (major >= 2) return err;
  const error = asStrongroomError(err);
  if (error.code !== 'WRONG_STATE' || !DATE_DETAILS.some((name) => name in error.details)) return err;
  return new KmipOperationError('PermissionDenied', `${error.code}: ${error.message}`);
}
