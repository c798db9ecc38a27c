import { parseKeyName } from '../../domain/key-names';
import { parseAlgorithm } from '../../domain/algorithms';
import { parseUsageMask, usageNames } from '../../domain/usage-mask';
import { makeRolloverPolicy, parseCryptoperiod } from '../../domain/rollover-policy';
import { assertTransition, canTransition } from '../../domain/instance-states';
import { codeOf } from '../support/error-code';

describe('key names', () => {
  it('splits namespace and name, with a default namespace', () => {
    expect(parseKeyName('hr/payroll')).toEqual({ namespace: 'hr', name: 'payroll' });
    expect(parseKeyName('eu/hr/payroll')).toEqual({ namespace: 'eu/hr', name: 'payroll' });
    expect(parseKeyName('solo')).toEqual({ namespace: 'default', name: 'solo' });
  });

  it.each(['', '/x', 'x/', 'a//b', 'bad name', '../etc', 'x'.repeat(201), 'naïve', 'a/%'])('refuses %p', (name) => {
    expect(codeOf(() => parseKeyName(name))).toBe('INVALID_ARGUMENT');
  });
});

describe('algorithms, usage and rollover policy', () => {
  it('parses algorithms case-insensitively and refuses unknown ones', () => {
    expect(parseAlgorithm('aes-256')).toBe('AES-256');
    expect(codeOf(() => parseAlgorithm('DES'))).toBe('INVALID_ARGUMENT');
  });

  it('parses usage lists into KMIP mask bits and back', () => {
    expect(parseUsageMask('encrypt,decrypt')).toBe(0x4 | 0x8);
    expect(usageNames(0x4 | 0x8)).toEqual(['encrypt', 'decrypt']);
    expect(codeOf(() => parseUsageMask('encrypt,teleport'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseUsageMask('0'))).toBe('INVALID_ARGUMENT');
  });

  it('normalises cryptoperiods and checks the policy combination', () => {
    expect(parseCryptoperiod('90')).toBe('P90D');
    expect(parseCryptoperiod('p1y')).toBe('P1Y');
    expect(codeOf(() => parseCryptoperiod('P0D'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseCryptoperiod('PT5M'))).toBe('INVALID_ARGUMENT');
    expect(makeRolloverPolicy(undefined, 'P30D')).toEqual({ kind: 'auto', cryptoperiod: 'P30D' });
    expect(makeRolloverPolicy(undefined, undefined)).toEqual({ kind: 'manual', cryptoperiod: null });
    expect(codeOf(() => makeRolloverPolicy('auto', undefined))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => makeRolloverPolicy('none', 'P1D'))).toBe('INVALID_ARGUMENT');
  });
});

describe('instance lifecycle transitions', () => {
  it('allows the SP 800-57 transitions and refuses the rest with WRONG_STATE', () => {
    expect(canTransition('PreActive', 'Active')).toBe(true);
    expect(canTransition('Active', 'Deactivated')).toBe(true);
    expect(canTransition('Deactivated', 'Destroyed')).toBe(true);
    expect(codeOf(() => assertTransition('Destroyed', 'Active'))).toBe('WRONG_STATE');
    expect(codeOf(() => assertTransition('Deactivated', 'Active'))).toBe('WRONG_STATE');
    expect(codeOf(() => assertTransition('Active', 'Destroyed'))).toBe('WRONG_STATE');
  });
});

describe('usage by algorithm family', () => {
  it('refuses at create a usage the material cannot serve', async () => {
    const { checkUsageForFamily, parseUsageMask: parse } = await import('../../domain/usage-mask');
    expect(codeOf(() => checkUsageForFamily(parse('encrypt'), 'hmac'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => checkUsageForFamily(parse('mac-generate'), 'aes'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => checkUsageForFamily(parse('encrypt,decrypt,wrap-key'), 'aes'))).toBe('NO_ERROR');
    expect(codeOf(() => checkUsageForFamily(parse('mac-generate,mac-verify'), 'hmac'))).toBe('NO_ERROR');
  });
});
