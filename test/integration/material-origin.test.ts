/**
 * Facts kept per instance on the real parts — the origin of its material
 * (generated here or imported), the reason it was revoked and when it was
 * marked compromised: kept in the SQLite row, authenticated by the instance
 * row MAC without changing the MAC of rows stored before the fields
 * existed; the origin decides the generator of the material facts.
 */
import { createHmac, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { encodeFields } from '../../domain/field-encoding';
import { Keychain } from '../../domain/keychain';
import { KEY_GENERATOR } from '../../domain/keys/material-facts';
import { instanceRowMac, InstanceRowFields } from '../../domain/row-mac';
import { openUnsealedKeychain, UnsealedKeychain } from '../support/unsealed-keychain';
import { rejectionCode } from '../support/error-code';

const FIELDS: InstanceRowFields = {
  id: 'i1', keyId: 'k1', name: 'n1', version: 1, state: 'Active', sealedMaterial: Buffer.alloc(60), sealVersion: 1,
  createdAt: '2026-01-01T00:00:00.000Z', activatedAt: '2026-01-01T00:00:00.000Z', deactivatedAt: null, destroyedAt: null,
  destroyAt: null, protectStopAt: null, processStopAt: null, processStartAt: null, origin: 'generated', revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: false,
};

describe('instance row MAC and the material origin', () => {
  const macKey = randomBytes(32);

  it('is, for a generated instance, the MAC of the v1 field list: rows stored before the field still verify', () => {
    const v1 = encodeFields(['strongroom/instance-row/v1', 'chain', 'i1', 'k1', 'n1', 1, 'Active', 1, 'material',
      '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', null, null, null, null, null]);
    expect(instanceRowMac(macKey, 'chain', FIELDS)).toEqual(createHmac('sha256', macKey).update(v1).digest());
  });

  it('differs for an imported, a revoked or a compromised instance, and for each of them', () => {
    const macs = [
      FIELDS,
      { ...FIELDS, origin: 'imported' as const },
      { ...FIELDS, revocationReason: 'superseded' },
      { ...FIELDS, revocationReason: 'keyCompromise' },
      { ...FIELDS, compromisedAt: '2026-01-02T00:00:00.000Z' },
      // The value of one extra cannot pass for another's: each comes after its name.
      { ...FIELDS, revocationReason: '2026-01-02T00:00:00.000Z' },
    ].map((fields) => instanceRowMac(macKey, 'chain', fields).toString('hex'));
    expect(new Set(macs).size).toBe(macs.length);
  });
});

describe('material origin on SoftHSM2 and SQLite', () => {
  let dbPath: string;
  let keychain: Keychain;

  let opened: UnsealedKeychain | undefined;

  beforeAll(async () => {
    opened = await openUnsealedKeychain('sr-origin-it');
    ({ dbPath, keychain } = opened);
  });

  afterAll(async () => {
    await opened?.close();
  });

  const setOrigin = (instance: string, origin: string): void => {
    const raw = new Database(dbPath);
    raw.prepare('UPDATE key_instances SET origin = ? WHERE name = ?').run(origin, instance);
    raw.close();
  };

  it('says a created key was drawn by the DRBG and a registered one was given', () => {
    keychain.createKey({ fullName: 'origin/made', algorithm: 'AES-256' });
    keychain.registerKey({ fullName: 'origin/given', algorithm: 'AES-256' }, randomBytes(32));
    expect(keychain.describeMaterial({ fullName: 'origin/made' })).toMatchObject({ origin: 'generated', generator: KEY_GENERATOR });
    expect(keychain.describeMaterial({ fullName: 'origin/given' })).toMatchObject({ origin: 'imported', generator: null });
  });

  it('says a rollover with the caller material was given, one without was drawn', () => {
    keychain.createKey({ fullName: 'origin/rolled', algorithm: 'AES-128' });
    keychain.rollover('origin/rolled', randomBytes(16));
    expect(keychain.describeMaterial({ fullName: 'origin/rolled' }).origin).toBe('imported');
    keychain.rollover('origin/rolled');
    expect(keychain.describeMaterial({ fullName: 'origin/rolled' }).origin).toBe('generated');
  });

  it('detects an imported instance marked generated in the file, and the reverse', async () => {
    const given = keychain.describeKey('origin/given').key.currentInstance;
    const made = keychain.describeKey('origin/made').key.currentInstance;
    setOrigin(given, 'generated');
    setOrigin(made, 'imported');
    expect(await rejectionCode(() => keychain.describeMaterial({ instance: given }))).toBe('INTEGRITY_FAILURE');
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'origin/made' }))).toBe('INTEGRITY_FAILURE');
    setOrigin(given, 'imported');
    setOrigin(made, 'generated');
    expect(keychain.describeMaterial({ instance: given }).origin).toBe('imported');
    expect(keychain.getKey({ fullName: 'origin/made' }).material).toHaveLength(32);
  });

  it('keeps the revocation reason and compromise date under the MAC: one cleared in the file is detected', async () => {
    keychain.createKey({ fullName: 'origin/lost', algorithm: 'AES-256' });
    const lost = keychain.describeKey('origin/lost').key.currentInstance;
    const before = keychain.transitionInstance({ instance: lost }, 'Compromised', { deactivatedAt: '2026-01-01T00:00:00.000Z', revocationReason: 'keyCompromise', compromisedAt: '2026-01-02T00:00:00.000Z' });
    expect(before).toMatchObject({ revocationReason: 'keyCompromise', compromisedAt: '2026-01-02T00:00:00.000Z' });
    const raw = new Database(dbPath);
    raw.prepare('UPDATE key_instances SET revocation_reason = NULL, compromised_at = NULL WHERE name = ?').run(lost);
    raw.close();
    expect(await rejectionCode(() => keychain.describeInstance({ instance: lost }))).toBe('INTEGRITY_FAILURE');
  });
});
