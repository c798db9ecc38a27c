/**
 * What `key show` and the lifecycle commands print (issue 16 item 7): a
 * scheduled destruction is visible in `key show` with how to cancel it, and
 * `key destroy --cancel` says that it cancelled, not only the state it left.
 */
import { describeLifecycleResult } from '../../cli/commands/key-lifecycle';
import { renderKey } from '../../cli/commands/key-format';
import type { InstanceView, KeyView } from '../../client/types';

const key: KeyView = {
  id: 'k1', fullName: 'hr/payroll', namespace: 'hr', name: 'payroll', algorithm: 'AES-256', usageMask: 12, usage: ['encrypt', 'decrypt'],
  description: '', owner: '', customAttributes: {}, rolloverPolicy: 'manual', cryptoperiod: null, currentInstance: 'inst-2', currentVersion: 2, currentState: 'Active',
  nextRolloverAt: null, protectPeriod: null, processPeriod: null, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
};
const instance = (version: number, over: Partial<InstanceView> = {}): InstanceView => ({
  name: `inst-${version}`, version, state: 'Active', current: version === 2, hasMaterial: true, createdAt: '2026-01-01T00:00:00.000Z',
  activatedAt: null, activatesAt: null, deactivatedAt: null, destroyedAt: null, destroyAt: null, protectStopAt: null, processStopAt: null, revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: true, ...over,
});

describe('key show and lifecycle output', () => {
  it('shows a scheduled destruction in key show, with how to cancel it', () => {
    const shown = renderKey(key, [instance(1, { state: 'Deactivated', destroyAt: '2026-02-01T00:00:00.000Z' }), instance(2)]);
    expect(shown).toMatch(/DESTRUCTION/);
    expect(shown).toMatch(/inst-1 .*Deactivated.*scheduled 2026-02-01T00:00:00.000Z/);
    expect(shown).toContain('strongroom key destroy --cancel --instance INSTANCE');
    expect(renderKey(key, [instance(2)])).not.toContain('--cancel');
  });

  it('says a destruction was cancelled, and what a destroy scheduled', () => {
    expect(describeLifecycleResult('destroy-cancel', instance(1, { state: 'Deactivated' }))).toBe('Cancelled the scheduled destruction of instance inst-1 (v1); it stays Deactivated');
    expect(describeLifecycleResult('destroy', instance(1, { state: 'Deactivated', destroyAt: '2026-02-01T00:00:00.000Z' }))).toContain('destruction scheduled for 2026-02-01T00:00:00.000Z');
  });
});
