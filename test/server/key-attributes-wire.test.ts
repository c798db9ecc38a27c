/**
 * GetAttributes by instance, SetCustomAttributes and Locate's nextOffset on
 * the native wire, against a real appliance (SoftHSM2, SQLite, mutual TLS):
 * what KMIP needs from them (docs/kmip.md §3), given to both wires. The
 * audit trail names the key and the instance an instance reference reached.
 */
import { createHash } from 'node:crypto';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

jest.setTimeout(90_000);

interface Described {
  key: { fullName: string; currentInstance: string; currentState: string; customAttributes: Record<string, string> };
  instances: Array<{ name: string; version: number; state: string }>;
  instance?: { name: string; version: number; current: boolean };
}

describe('key attributes on the native wire', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let app: RawConnection;
  let outsider: RawConnection;
  let first: string;
  let second: string;

  async function ok<R>(conn: RawConnection, op: string, args: Record<string, unknown>): Promise<R> {
    const res = await conn.request(op, args);
    if (res.error) throw new Error(`${op}: ${res.error.code} ${res.error.message}`);
    return res.result as R;
  }

  beforeAll(async () => {
    t = await startTestAppliance();
    officer = await t.connect(t.officer);
    first = (await ok<Described>(officer, 'Create', { name: 'attr/one', attributes: { team: 'hr' } })).key.currentInstance;
    second = (await ok<Described>(officer, 'ReKey', { name: 'attr/one' })).key.currentInstance;
    await ok(officer, 'Create', { name: 'attr/two' });
    await ok(officer, 'PolicyGrant', { client: 'attr-app', pattern: 'attr/*', permissions: ['locate', 'get-attributes', 'modify-attributes'] });
    app = await t.connect(t.issue('attr-app', 'app'));
    outsider = await t.connect(t.issue('attr-outsider', 'app'));
  });

  afterAll(async () => {
    await t?.stop();
  });

  test('GetAttributes answers the instance named, alone or with its key, else the current one', async () => {
    const byInstance = await ok<Described>(app, 'GetAttributes', { instance: first });
    expect(byInstance.key.fullName).toBe('attr/one');
    expect(byInstance.instance).toMatchObject({ name: first, version: 1, current: false });
    expect(byInstance.key.currentState).toBe('Active');
    expect((await ok<Described>(app, 'GetAttributes', { name: 'attr/one', instance: first })).instance?.name).toBe(first);
    expect((await ok<Described>(app, 'GetAttributes', { name: 'attr/one' })).instance).toMatchObject({ name: second, current: true });
  });

  test('GetAttributes says what Get serves of the material, and with digest: true its SHA-256 (of what Get opens), null for SECRET', async () => {
    const facts = await ok<{ material: unknown; digest?: unknown }>(app, 'GetAttributes', { instance: first });
    expect(facts.material).toEqual({ extractable: true, sensitive: false, generator: { kind: 'DRBG', drbg: 'CTR_DRBG', cipher: 'AES', bits: 256 }, origin: 'generated', leaseSeconds: 3600, storage: 'software' });
    expect('digest' in facts).toBe(false);
    const digested = await ok<{ digest: { algorithm: string; value: string; format: string } }>(app, 'GetAttributes', { instance: first, digest: true });
    // A grant of `get` is dual-controlled: two other officers approve it.
    const holderCredentials = t.issue('attr-holder', 'app');
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'attr-holder', pattern: 'attr/*', permissions: ['get'] }))).state).toBe('executed');
    const holder = await t.connect(holderCredentials);
    const got = await ok<{ material: string }>(holder, 'Get', { instance: first });
    expect(digested.digest).toEqual({ algorithm: 'SHA-256', value: createHash('sha256').update(Buffer.from(got.material, 'base64')).digest('hex'), format: 'raw' });
    await ok(officer, 'Register', { name: 'wire-secrets/password', material: Buffer.from('hunter2').toString('base64') });
    const secret = await ok<{ material: { generator: unknown }; digest: unknown }>(officer, 'GetAttributes', { name: 'wire-secrets/password', digest: true });
    expect(secret).toMatchObject({ material: { generator: null }, digest: null });
    expect((await app.request('GetAttributes', { instance: first, digest: 'yes' })).error?.code).toBe('INVALID_REQUEST');
  });

  test('an instance of another key, or none, is INSTANCE_NOT_FOUND; a client without the grant learns nothing', async () => {
    expect((await app.request('GetAttributes', { name: 'attr/two', instance: first })).error?.code).toBe('INSTANCE_NOT_FOUND');
    expect((await outsider.request('GetAttributes', { instance: first })).error?.code).toBe('PERMISSION_DENIED');
    expect((await outsider.request('GetAttributes', { instance: 'no-such-instance' })).error?.code).toBe('PERMISSION_DENIED');
  });

  test('an unknown instance is INSTANCE_NOT_FOUND to a client granted the permission on every key (`*`), which could reach whatever exists; PERMISSION_DENIED to one granted less', async () => {
    const everywhereCredentials = t.issue('attr-everywhere', 'app');
    await ok(officer, 'PolicyGrant', { client: 'attr-everywhere', pattern: '*', permissions: ['get-attributes'] });
    const everywhere = await t.connect(everywhereCredentials);
    expect((await everywhere.request('GetAttributes', { instance: 'no-such-instance' })).error).toMatchObject({ code: 'INSTANCE_NOT_FOUND', message: 'no instance named "no-such-instance"' });
    expect((await ok<Described>(everywhere, 'GetAttributes', { instance: first })).key.fullName).toBe('attr/one');
    // Granted on attr/* only: an unknown instance might belong to a key it may not see, so it is told nothing.
    expect((await app.request('GetAttributes', { instance: 'no-such-instance' })).error?.code).toBe('PERMISSION_DENIED');
    // `*` for another permission does not answer for this one.
    expect((await everywhere.request('Activate', { instance: 'no-such-instance' })).error?.code).toBe('PERMISSION_DENIED');
  });

  test('SetCustomAttributes adds, replaces and removes the key\'s attributes, and refuses what it cannot do', async () => {
    const set = await ok<Described>(app, 'SetCustomAttributes', { instance: first, set: { team: 'finance', site: 'lyon' } });
    expect(set.key.customAttributes).toEqual({ team: 'finance', site: 'lyon' });
    const removed = await ok<Described>(app, 'SetCustomAttributes', { name: 'attr/one', remove: ['site'] });
    expect(removed.key.customAttributes).toEqual({ team: 'finance' });

    expect((await app.request('SetCustomAttributes', { name: 'attr/one', remove: ['site'] })).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('no custom attribute "site"') });
    expect((await app.request('SetCustomAttributes', { name: 'attr/one' })).error?.code).toBe('INVALID_ARGUMENT');
    expect((await app.request('SetCustomAttributes', { name: 'attr/one', set: { 'bad name': 'x' } })).error?.code).toBe('INVALID_REQUEST');
    expect((await outsider.request('SetCustomAttributes', { name: 'attr/one', set: { team: 'x' } })).error?.code).toBe('PERMISSION_DENIED');
    expect((await ok<Described>(officer, 'GetAttributes', { name: 'attr/one' })).key.customAttributes).toEqual({ team: 'finance' });
  });

  test('the audit trail names the key and instance a SetCustomAttributes by instance reached', async () => {
    const auditor = await t.connect(t.issue('attr-auditor', 'auditor'));
    const found = await ok<{ events: Array<{ event: Record<string, unknown> }> }>(auditor, 'AuditSearch', { identity: 'attr-app', operation: 'SetCustomAttributes' });
    expect(found.events.map((e) => e.event)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'operation', key: 'attr/one', instance: first, result: 'ok' }),
        expect.objectContaining({ type: 'operation', key: 'attr/one', result: 'INVALID_ARGUMENT' }),
      ]),
    );
  });

  test('Locate says where the next page starts, and null after the last', async () => {
    const page = await ok<{ keys: Array<{ fullName: string }>; nextOffset: number | null }>(app, 'Locate', { pattern: 'attr/*', limit: 1 });
    expect(page.keys.map((k) => k.fullName)).toEqual(['attr/one']);
    expect(page.nextOffset).toBe(1);
    const last = await ok<{ keys: Array<{ fullName: string }>; nextOffset: number | null }>(app, 'Locate', { pattern: 'attr/*', limit: 5 });
    expect(last.keys.map((k) => k.fullName)).toEqual(['attr/one', 'attr/two']);
    expect(last.nextOffset).toBeNull();
    expect(await ok(await t.connect(t.issue('attr-nobody', 'app')), 'Locate', {})).toEqual({ keys: [], nextOffset: null });
  });
});
