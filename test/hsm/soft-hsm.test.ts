/**
 * The soft HSM: the shared HsmPort conformance suite, plus the failure
 * simulation hooks other unit tests rely on.
 */
import { randomBytes } from 'node:crypto';
import { SoftHsm } from '../../hsm/soft-hsm';
import { derToP1363 } from '../../hsm/prehashed-ecdsa';
import { describeHsmConformance } from './hsm-conformance';
import { rejectionCode } from '../support/error-code';

describeHsmConformance('SoftHsm', async () => {
  const hsm = new SoftHsm({ label: 'soft-a', serialNumber: '0001' });
  const other = new SoftHsm({ label: 'soft-b', serialNumber: '0002' });
  return { hsm, other, cleanup: async () => { await hsm.close(); await other.close(); } };
});

describe('SoftHsm simulates token failures', () => {
  it('failNext makes exactly the next call fail with the chosen code', async () => {
    const hsm = new SoftHsm();
    await hsm.generateMasterKey(1);
    hsm.failNext('HSM_PIN_LOCKED');
    expect(await rejectionCode(hsm.listMasterKeyVersions())).toBe('HSM_PIN_LOCKED');
    expect(await hsm.listMasterKeyVersions()).toEqual([1]);
  });

  it('deleteMasterKey makes that version missing (HSM_MASTER_KEY_MISSING)', async () => {
    const hsm = new SoftHsm();
    await hsm.generateMasterKey(1);
    const wrapped = await hsm.wrapKey(1, randomBytes(32));
    hsm.deleteMasterKey(1);
    expect(await rejectionCode(hsm.unwrapKey(wrapped))).toBe('HSM_MASTER_KEY_MISSING');
  });

  it('reports the serial number and label it was given', async () => {
    const info = await new SoftHsm({ label: 'lab', serialNumber: 'abc' }).tokenInfo();
    expect(info).toMatchObject({ label: 'lab', serialNumber: 'abc' });
  });

  it('is unusable after close, and close is idempotent', async () => {
    const hsm = new SoftHsm();
    await hsm.close();
    await hsm.close();
    expect(await rejectionCode(hsm.listMasterKeyVersions())).toBe('HSM_ERROR');
  });
});

describe('derToP1363 converts ECDSA-Sig-Value to r||s', () => {
  it('strips a leading zero and left-pads a short integer', () => {
    const r = Buffer.concat([Buffer.from([0x00, 0x80]), Buffer.alloc(31, 1)]);
    const s = Buffer.alloc(31, 2);
    const der = Buffer.concat([Buffer.from([0x30, 4 + r.length + s.length, 0x02, r.length]), r, Buffer.from([0x02, s.length]), s]);
    const out = derToP1363(der);
    expect(out.subarray(0, 32).equals(r.subarray(1))).toBe(true);
    expect(out.subarray(32).equals(Buffer.concat([Buffer.alloc(1), s]))).toBe(true);
  });

  it.each([
    ['empty input', ''],
    ['a SET instead of a SEQUENCE', '3106020101020101'],
    ['a SEQUENCE length that disagrees with the input', '3007020101020101'],
    ['bytes after the second INTEGER', '300702010102010100'],
    ['a BOOLEAN instead of an INTEGER', '3006010101020101'],
    ['a zero-length INTEGER', '30050200020101'],
    ['an INTEGER longer than 32 bytes', `3026022101${'ff'.repeat(32)}020101`],
  ])('rejects %s (HSM_ERROR)', (_name, hex) => {
    expect(() => derToP1363(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code: 'HSM_ERROR' }));
  });
});
