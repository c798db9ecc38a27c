/**
 * Error families (common/errors.ts): a family says what its code means, the
 * code stays the stable interface. What goes on the wire and the exit code
 * come from the code alone, whichever family carries it.
 */
import { AccessError, ApprovalError, asStrongroomError, AuditError, KeychainError, StrongroomError } from '../../common/errors';
import { EXIT } from '../../common/error-codes';

describe('error families', () => {
  it('send the same code, message and details as the base class, and exit by the code', () => {
    const cases: Array<[StrongroomError, StrongroomError]> = [
      [new AccessError('PERMISSION_DENIED', 'no grant', { details: { permission: 'get' } }), new StrongroomError('PERMISSION_DENIED', 'no grant', { details: { permission: 'get' } })],
      [new ApprovalError('APPROVAL_NOT_FOUND', 'no request'), new StrongroomError('APPROVAL_NOT_FOUND', 'no request')],
      [new ApprovalError('DUAL_CONTROL_LOCAL_MODE', 'use --server'), new StrongroomError('DUAL_CONTROL_LOCAL_MODE', 'use --server')],
      [new AuditError('AUDIT_UNAVAILABLE', 'disk full'), new StrongroomError('AUDIT_UNAVAILABLE', 'disk full')],
    ];
    for (const [family, base] of cases) {
      expect(family.toJSON()).toEqual(base.toJSON());
      expect(family.exitCode).toBe(base.exitCode);
      expect(asStrongroomError(family)).toBe(family);
    }
    expect(new AccessError('UNAUTHENTICATED', 'who?').exitCode).toBe(EXIT.AUTH);
    expect(new ApprovalError('APPROVAL_REQUIRED', 'wait').exitCode).toBe(EXIT.APPROVAL_REQUIRED);
  });

  it('keep the cause and name their family', () => {
    const cause = new Error('ENOSPC');
    const error = new AuditError('AUDIT_UNAVAILABLE', 'the trail could not be written', { cause });
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('AuditError');
    expect(error).toBeInstanceOf(StrongroomError);
    expect(error).not.toBeInstanceOf(KeychainError);
  });
});
