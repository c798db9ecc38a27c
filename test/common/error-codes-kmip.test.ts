/**
 * The KMIP column of the one error table: every code answers a Result
 * Reason KMIP defines, and a 1.x reply only ever carries a reason 1.x has
 * (KMIP 1.4 §9.1.3.2.29: 0x01 to 0x18, and General Failure 0x100).
 */
import { ERROR_CODES, ErrorCode, kmipReasonFor } from '../../common/error-codes';
import { enumeration } from '../../protocol/kmip/dictionary';

const reasons = enumeration('ResultReason')!;
const inKmip1 = (name: string): boolean => {
  const value = reasons.byName.get(name)!;
  return (value >= 0x01 && value <= 0x18) || value === 0x100;
};

describe('the error table\'s KMIP column', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  test.each(codes)('%s answers a Result Reason KMIP defines, in 2.x and in 1.x', (code) => {
    const v2 = kmipReasonFor(code, 2);
    expect(reasons.byName.has(v2)).toBe(true);
    const v1 = kmipReasonFor(code, 1);
    expect(reasons.byName.has(v1)).toBe(true);
    expect(inKmip1(v1)).toBe(true);
  });

  test('the reasons a client acts on are the specific ones', () => {
    expect(kmipReasonFor('KEY_NOT_FOUND', 2)).toBe('ObjectNotFound');
    expect(kmipReasonFor('INSTANCE_NOT_FOUND', 1)).toBe('ItemNotFound');
    expect(kmipReasonFor('PERMISSION_DENIED', 1)).toBe('PermissionDenied');
    expect(kmipReasonFor('WRONG_STATE', 2)).toBe('WrongKeyLifecycleState');
    expect(kmipReasonFor('WRONG_STATE', 1)).toBe('IllegalOperation');
    expect(kmipReasonFor('INTEGRITY_FAILURE', 2)).toBe('CryptographicFailure');
    expect(kmipReasonFor('KMIP_INVALID_MESSAGE', 1)).toBe('InvalidMessage');
    expect(kmipReasonFor('UNKNOWN_OPERATION', 2)).toBe('OperationNotSupported');
  });
});
