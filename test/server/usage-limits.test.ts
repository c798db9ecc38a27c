/**
 * Usage limits (domain/usage-limits.ts) on a real appliance (SoftHSM2
 * token, SQLite keychain, mutual TLS), native wire and KMIP: a budget set at
 * Create, spent by Encrypt, Decrypt, MAC and MACVerify in bytes or in
 * operations, an operation that would pass it refused whole
 * (USAGE_LIMIT_REACHED, KMIP Permission Denied) and audited like other
 * refusals; two concurrent requests never both pass a budget only one fits;
 * the count survives a restart; a count lowered in the database file is
 * INTEGRITY_FAILURE, not a fresh budget; GetAttributes tells what remains.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KmipTlsClient } from '../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../protocol/kmip/kmip-message';
import { bytesItem, dateItem, enumItem, integerItem, intervalItem, longItem, maskItem, structureItem, textItem } from '../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../protocol/kmip/ttlv';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { find } from '../support/ttlv-find';

jest.setTimeout(120_000);

/** The first node tagged `name` anywhere under `node`. */
const data = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');

function auditOf(app: TestAppliance): Array<{ type: string; operation: string | null; result: string; error?: { code?: string } | null; errorCode?: string }> {
  return app.appliance.store.audit.readAuditRecords(1, 100_000).map((r) => JSON.parse(r.event));
}

describe('usage limits', () => {
  let app: TestAppliance;
  let client: Credentials;

  beforeAll(async () => {
    app = await startTestAppliance();
    client = app.issue('budget-app', 'app');
    const officer = await app.connect(app.officer);
    const grant = await officer.request('PolicyGrant', { client: 'budget-app', pattern: 'budget/*', permissions: ['create', 'encrypt', 'decrypt', 'mac', 'get-attributes'] });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
  });

  afterAll(async () => app.stop());

  const encrypt = (conn: RawConnection, name: string, bytes: number) => conn.request('Encrypt', { name, plaintext: data(bytes) });

  it('spends a byte budget: an Encrypt that would pass it is refused whole and audited; the rest can still be spent; GetAttributes shows what remains', async () => {
    const conn = await app.connect(client);
    expect((await conn.request('Create', { name: 'budget/bytes', algorithm: 'AES-256', usageLimitTotal: 40, usageLimitUnit: 'byte' })).error).toBeUndefined();
    const first = await encrypt(conn, 'budget/bytes', 16);
    expect(first.error).toBeUndefined();
    const refused = await encrypt(conn, 'budget/bytes', 25);
    expect(refused.error?.code).toBe('USAGE_LIMIT_REACHED');
    expect(refused.error?.details).toMatchObject({ total: 40, unit: 'byte' });
    // Nothing was spent by the refusal: 24 bytes remain, and a Decrypt of the 16 (its ciphertext is longer) spends from them too.
    const attributes = await conn.request('GetAttributes', { name: 'budget/bytes' });
    expect((attributes.result as { usage: unknown }).usage).toEqual({ total: 40, unit: 'byte', used: 16, remaining: 24 });
    expect((await encrypt(conn, 'budget/bytes', 24)).error).toBeUndefined();
    const decrypt = await conn.request('Decrypt', { name: 'budget/bytes', ciphertext: (first.result as { ciphertext: string }).ciphertext });
    expect(decrypt.error?.code).toBe('USAGE_LIMIT_REACHED');
    const events = auditOf(app).filter((e) => e.result !== 'success' && JSON.stringify(e).includes('USAGE_LIMIT_REACHED'));
    expect(events.map((e) => e.operation)).toEqual(['Encrypt', 'Decrypt']);
    conn.destroy();
  });

  it('refuses a total without its unit, and a total below 1', async () => {
    const conn = await app.connect(client);
    expect((await conn.request('Create', { name: 'budget/half', usageLimitTotal: 5 })).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/go together/) });
    expect((await conn.request('Create', { name: 'budget/zero', usageLimitTotal: 0, usageLimitUnit: 'object' })).error?.code).toBe('INVALID_REQUEST');
    conn.destroy();
  });

  it('counts MAC and MACVerify as operations under an object budget', async () => {
    const conn = await app.connect(client);
    expect((await conn.request('Create', { name: 'budget/mac', algorithm: 'HMAC-SHA256', usageLimitTotal: 2, usageLimitUnit: 'object' })).error).toBeUndefined();
    const mac = await conn.request('MAC', { name: 'budget/mac', data: data(100) });
    expect(mac.error).toBeUndefined();
    expect((await conn.request('MACVerify', { name: 'budget/mac', data: data(100), mac: (mac.result as { mac: string }).mac })).error).toBeUndefined();
    expect((await conn.request('MAC', { name: 'budget/mac', data: data(1) })).error?.code).toBe('USAGE_LIMIT_REACHED');
    conn.destroy();
  });

  it('lets exactly one of two concurrent requests through a budget that fits one', async () => {
    const setup = await app.connect(client);
    expect((await setup.request('Create', { name: 'budget/race', algorithm: 'AES-256', usageLimitTotal: 1, usageLimitUnit: 'object' })).error).toBeUndefined();
    setup.destroy();
    const [a, b] = [await app.connect(client), await app.connect(client)];
    const answers = await Promise.all([encrypt(a, 'budget/race', 8), encrypt(b, 'budget/race', 8)]);
    expect(answers.map((answer) => answer.error?.code ?? 'ok').sort()).toEqual(['USAGE_LIMIT_REACHED', 'ok']);
    a.destroy();
    b.destroy();
  });

  it('keeps the count across a restart, and refuses a count lowered in the database file', async () => {
    let conn = await app.connect(client);
    expect((await conn.request('Create', { name: 'budget/durable', algorithm: 'AES-256', usageLimitTotal: 3, usageLimitUnit: 'object' })).error).toBeUndefined();
    for (let i = 0; i < 3; i++) expect((await encrypt(conn, 'budget/durable', 1)).error).toBeUndefined();
    conn.destroy();
    await app.restart();
    conn = await app.connect(client);
    expect((await encrypt(conn, 'budget/durable', 1)).error?.code).toBe('USAGE_LIMIT_REACHED');
    conn.destroy();

    await app.server.close();
    await app.appliance.close();
    const db = new Database(join(app.dataDir, 'keychain.db'));
    try {
      // A careful attacker drops the journal trigger, so only the row's own MAC stands in the way.
      db.exec('DROP TRIGGER gcm_invocations_trust_update');
      expect(db.prepare("UPDATE gcm_invocations SET reserved = 1 WHERE instance_id LIKE 'usage-limit/%'").run().changes).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    await app.restart();
    conn = await app.connect(client);
    expect((await encrypt(conn, 'budget/durable', 1)).error?.code).toBe('INTEGRITY_FAILURE');
    conn.destroy();
  });
});

describe('usage limits over KMIP', () => {
  let app: TestAppliance;
  let kmip: KmipTlsClient;

  beforeAll(async () => {
    app = await startTestAppliance();
    const credentials = app.issue('kmip-budget', 'app');
    const officer = await app.connect(app.officer);
    const grant = await officer.request('PolicyGrant', { client: 'kmip-budget', pattern: 'kbudget/*', permissions: ['create', 'encrypt', 'decrypt', 'get', 'get-attributes'] });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
    kmip = await KmipTlsClient.open(app.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    kmip?.destroy();
    await app?.stop();
  });

  const call = async (operation: string, payload: TtlvNode[]): Promise<ResponseBatchItem> =>
    (await kmip.call(operation, structureItem('RequestPayload', payload), { major: 2, minor: 1 })).batchItems[0];
  const createPayload = (name: string, limits: TtlvNode): TtlvNode[] => [
    enumItem('ObjectType', 'SymmetricKey'),
    structureItem('Attributes', [
      enumItem('CryptographicAlgorithm', 'AES'),
      integerItem('CryptographicLength', 128),
      maskItem('CryptographicUsageMask', ['Encrypt', 'Decrypt']),
      dateItem('ActivationDate', BigInt(Math.floor(Date.now() / 1000) - 3600)),
      structureItem('Name', [textItem('NameValue', name), enumItem('NameType', 'UninterpretedTextString')]),
      limits,
    ]),
  ];
  const limits = (count?: bigint): TtlvNode =>
    structureItem('UsageLimits', [longItem('UsageLimitsTotal', 20n), ...(count === undefined ? [] : [longItem('UsageLimitsCount', count)]), enumItem('UsageLimitsUnit', 'Byte')]);

  it('takes Usage Limits at Create, refuses the Encrypt that would pass them with Permission Denied, and reports the Count that remains', async () => {
    const created = await call('Create', createPayload('kbudget/k', limits(20n)));
    expect(created.resultStatus).toBe('Success');
    const uid = find(created.responsePayload, 'UniqueIdentifier')!.value as string;
    const encrypt = () => call('Encrypt', [textItem('UniqueIdentifier', uid), structureItem('CryptographicParameters', [enumItem('BlockCipherMode', 'ECB')]), bytesItem('Data', Buffer.alloc(16, 1))]);
    const first = await encrypt();
    expect([first.resultStatus, first.resultMessage]).toEqual(['Success', undefined]);
    const refused = await encrypt();
    expect([refused.resultStatus, refused.resultReason]).toEqual(['OperationFailed', 'PermissionDenied']);
    expect(refused.resultMessage).toMatch(/^USAGE_LIMIT_REACHED: /);
    const attributes = await call('GetAttributes', [textItem('UniqueIdentifier', uid), enumItem('AttributeReference', 'UsageLimits', 'Tag')]);
    expect(attributes.resultStatus).toBe('Success');
    const usage = find(attributes.responsePayload, 'UsageLimits');
    expect([find(usage, 'UsageLimitsTotal')?.value, find(usage, 'UsageLimitsCount')?.value, find(usage, 'UsageLimitsUnit')?.value]).toEqual([20n, 4n, 1]);
    // A client that could raise its own budget would have none: Set Attribute of Usage Limits is refused, and the Count stays.
    const raised = await call('SetAttribute', [textItem('UniqueIdentifier', uid), structureItem('NewAttribute', [limits()])]);
    expect([raised.resultStatus, raised.resultReason]).toEqual(['OperationFailed', 'ReadOnlyAttribute']);
    expect(raised.resultMessage).toMatch(/fixed when the object is made/);
    expect((await encrypt()).resultReason).toBe('PermissionDenied');
  });

  it('ignores a Usage Limits Count sent at creation (KMIP: the server sets it to the Total), and Check says whether a count remains', async () => {
    const created = await call('Create', createPayload('kbudget/partial', limits(5n)));
    expect(created.resultStatus).toBe('Success');
    const uid = find(created.responsePayload, 'UniqueIdentifier')!.value as string;
    const attributes = await call('GetAttributes', [textItem('UniqueIdentifier', uid), enumItem('AttributeReference', 'UsageLimits', 'Tag')]);
    expect(find(find(attributes.responsePayload, 'UsageLimits'), 'UsageLimitsCount')?.value).toBe(20n);
    const check = (count: bigint) => call('Check', [textItem('UniqueIdentifier', uid), longItem('UsageLimitsCount', count)]);
    expect((await check(20n)).resultStatus).toBe('Success');
    const over = await check(21n);
    expect([over.resultStatus, over.resultReason]).toEqual(['OperationFailed', 'UsageLimitExceeded']);
    expect(over.resultMessage).toMatch(/21 bytes asked, 20 remain/);
    const lease = await call('Check', [textItem('UniqueIdentifier', uid), intervalItem('LeaseTime', 7200)]);
    expect([lease.resultStatus, lease.resultReason]).toEqual(['OperationFailed', 'PermissionDenied']);
    expect(lease.resultMessage).toMatch(/appliance leases served material for 3600 s/);
    expect((await call('Check', [textItem('UniqueIdentifier', uid), intervalItem('LeaseTime', 3600)])).resultStatus).toBe('Success');
  });
});
