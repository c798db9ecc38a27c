/**
 * Errors of the wire protocol itself (framing, JSON, request shape), as
 * opposed to errors of an operation. Codes are in common/error-codes.ts.
 */
import { ErrorDetails, StrongroomError } from '../common/errors';
import { ErrorCode } from '../common/error-codes';

export type ProtocolErrorCode = Extract<ErrorCode, 'FRAME_EMPTY' | 'FRAME_TOO_LARGE' | 'MALFORMED_REQUEST' | 'INVALID_REQUEST' | 'UNKNOWN_OPERATION' | 'RATE_LIMITED' | 'UNAUTHENTICATED' | 'SERVER_BUSY'>;

export class ProtocolError extends StrongroomError {
  constructor(code: ProtocolErrorCode, message: string, details?: ErrorDetails) {
    super(code, message, { details });
  }
}
