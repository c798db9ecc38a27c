/**
 * KMIP Fresh and Sensitive on the real parts (SoftHSM2, SQLite), below the
 * wire: Fresh is in the instance row MAC only when true, so rows stored
 * before it existed (not fresh) keep their MAC and a flag set back in the
 * file is detected; only the first Get of a fresh instance writes (the
 * store's change stamp moves once); a cached row never says fresh after it;
 * a sensitive key's material is never opened for Get and its flag is under
 * the key row MAC.
 */
import { createHmac, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { encodeFields } from '../../domain/field-encoding';
import { Keychain } from '../../domain/keychain';
import { instanceRowMac, InstanceRowFields } from '../../domain/row-mac';
import { KeychainStore } from '../../storage/keychain-store';
import { openUnsealedKeychain, UnsealedKeychain } from '../support/unsealed-keychain';
import { rejectionCode } from '../support/error-code';

const FIELDS: InstanceRowFields = {
  id: 'i1', keyId: 'k1', name: 'n1', version: 1, state: 'Active', sealedMaterial: Buffer.alloc(60), sealVersion: 1,
  createdAt: '2026-01-01T00:00:00.000Z', activatedAt: '2026-01-01T00:00:00.000Z', deactivatedAt: null, destroyedAt: null,
  destroyAt: null, protectStopAt: null, processStopAt: null, processStartAt: null, origin: 'generated', revocationReason: null, compromisedAt: null, compromiseOccurredAt: null, fresh: false,
};

describe('the Fresh flag in the instance row MAC', () => {
  const macKey = randomBytes(32);

  it('leaves a row that is not fresh (every row stored before the flag) with the MAC of the v1 field list', () => {
    const v1 = encodeFields(['strongroom/instance-row/v1', 'chain', 'i1', 'k1', 'n1', 1, 'Active', 1, 'material',
      '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', null, null, null, null, null]);
    expect(instanceRowMac(macKey, 'chain', FIELDS)).toEqual(createHmac('sha256', macKey).update(v1).digest());
  });

  it('gives a fresh row another MAC, which no other extra can stand in for', () => {
    const macs = [FIELDS, { ...FIELDS, fresh: true }, { ...FIELDS, revocationReason: 'fresh' }, { ...FIELDS, revocationReason: 'true' }].map((f) => instanceRowMac(macKey, 'chain', f).toString('hex'));
    expect(new Set(macs).size).toBe(macs.length);
  });
});

describe('Fresh and Sensitive on SoftHSM2 and SQLite', () => {
  let dbPath: string;
  let store: KeychainStore;
  let keychain: Keychain;

  let opened: UnsealedKeychain | undefined;

  beforeAll(async () => {
    opened = await openUnsealedKeychain('sr-fresh-it');
    ({ dbPath, store, keychain } = opened);
  });

  afterAll(async () => {
    await opened?.close();
  });

  const edit = (sql: string, ...params: unknown[]): void => {
    const raw = new Database(dbPath);
    raw.prepare(sql).run(...params);
    // As an attacker wanting the edit obeyed at once would: caches keyed on the change counter reload.
    raw.prepare('UPDATE keychain_changes SET counter = counter + 1').run();
    raw.close();
  };

  it('writes once, at the first Get: later Gets leave the store as it is, and no cached row says fresh', () => {
    keychain.createKey({ fullName: 'fresh/once', algorithm: 'AES-256' });
    // Resolved (and cached) while fresh.
    expect(keychain.describeInstance({ fullName: 'fresh/once' }).fresh).toBe(true);
    const before = store.changeStamp();
    const first = keychain.getKey({ fullName: 'fresh/once' });
    first.material.fill(0);
    expect(first.instance.fresh).toBe(false);
    const afterFirst = store.changeStamp();
    expect(afterFirst).not.toBe(before);
    expect(keychain.describeInstance({ fullName: 'fresh/once' }).fresh).toBe(false);
    for (let i = 0; i < 3; i++) keychain.getKey({ fullName: 'fresh/once' }).material.fill(0);
    expect(store.changeStamp()).toBe(afterFirst);
  });

  it('registers fresh unless told otherwise, and keeps a registered "not fresh"', () => {
    keychain.registerKey({ fullName: 'fresh/given', algorithm: 'SECRET' }, Buffer.from('a secret'));
    keychain.registerKey({ fullName: 'fresh/handed-out', algorithm: 'SECRET', fresh: false }, Buffer.from('another'));
    expect(keychain.describeInstance({ fullName: 'fresh/given' }).fresh).toBe(true);
    expect(keychain.describeInstance({ fullName: 'fresh/handed-out' }).fresh).toBe(false);
  });

  it('detects a served instance set back to fresh in the file, and a fresh one marked served', async () => {
    keychain.createKey({ fullName: 'fresh/forged', algorithm: 'AES-128' });
    keychain.createKey({ fullName: 'fresh/hidden', algorithm: 'AES-128' });
    keychain.getKey({ fullName: 'fresh/forged' }).material.fill(0);
    const forged = keychain.describeKey('fresh/forged').key.currentInstance;
    const hidden = keychain.describeKey('fresh/hidden').key.currentInstance;
    edit('UPDATE key_instances SET fresh = 1 WHERE name = ?', forged);
    edit('UPDATE key_instances SET fresh = 0 WHERE name = ?', hidden);
    expect(await rejectionCode(() => keychain.describeInstance({ instance: forged }))).toBe('INTEGRITY_FAILURE');
    expect(await rejectionCode(() => keychain.getKey({ instance: hidden }))).toBe('INTEGRITY_FAILURE');
  });

  it('refuses a sensitive key\'s material before opening it, leaves it fresh, and detects the flag cleared in the file', async () => {
    keychain.createKey({ fullName: 'fresh/sensitive', algorithm: 'AES-256', sensitive: true });
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'fresh/sensitive' }))).toBe('SENSITIVE');
    expect(keychain.describeInstance({ fullName: 'fresh/sensitive' }).fresh).toBe(true);
    expect(keychain.describeMaterial({ fullName: 'fresh/sensitive' }).sensitive).toBe(true);
    edit("UPDATE keys SET sensitive = 0 WHERE namespace = 'fresh' AND name = 'sensitive'");
    expect(await rejectionCode(() => keychain.getKey({ fullName: 'fresh/sensitive' }))).toBe('INTEGRITY_FAILURE');
  });
});
