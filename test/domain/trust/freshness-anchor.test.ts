/**
 * The freshness anchor (domain/trust/freshness-anchor.ts) on the soft HSM:
 * the counter only grows, a file below it or without a trust state is
 * refused once the token has one, and a write interrupted between its steps
 * (two objects) reads as the higher.
 */
import { SoftHsm } from '../../../hsm/soft-hsm';
import { HsmPort } from '../../../hsm/hsm-port';
import { advanceFreshnessAnchor, anchorLabel, assertNotRolledBack, readFreshnessAnchor } from '../../../domain/trust/freshness-anchor';
import { codeOf } from '../../support/error-code';

describe('the freshness anchor', () => {
  let hsm: HsmPort;
  beforeEach(() => {
    hsm = new SoftHsm({ label: 'anchor-test', serialNumber: '0001' });
  });

  it('is absent on a new token, then only grows', async () => {
    expect(await readFreshnessAnchor(hsm, 'k1')).toBeNull();
    await advanceFreshnessAnchor(hsm, 'k1', 5);
    await advanceFreshnessAnchor(hsm, 'k1', 3);
    expect(await readFreshnessAnchor(hsm, 'k1')).toBe(5);
    await advanceFreshnessAnchor(hsm, 'k1', 9);
    expect(await readFreshnessAnchor(hsm, 'k1')).toBe(9);
    expect(await readFreshnessAnchor(hsm, 'k2')).toBeNull();
  });

  it('refuses a file older than the token, or one without a trust state once the token has one', () => {
    expect(() => assertNotRolledBack(null, null)).not.toThrow();
    expect(() => assertNotRolledBack(null, 4)).not.toThrow();
    expect(() => assertNotRolledBack(4, 4)).not.toThrow();
    expect(() => assertNotRolledBack(4, 7)).not.toThrow();
    expect(codeOf(() => assertNotRolledBack(4, 3))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => assertNotRolledBack(4, null))).toBe('INTEGRITY_FAILURE');
  });

  it('reads the higher of two objects a crashed write left, and refuses a value it did not write', async () => {
    const twoObjects: HsmPort = Object.assign(Object.create(hsm) as HsmPort, {
      readAnchors: async () => [Buffer.from('535246310000000000000007', 'hex'), Buffer.from('535246310000000000000009', 'hex')],
    });
    expect(await readFreshnessAnchor(twoObjects, 'k')).toBe(9);
    await hsm.writeAnchor(anchorLabel('k'), Buffer.from('not an anchor'));
    await expect(readFreshnessAnchor(hsm, 'k')).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });
});
