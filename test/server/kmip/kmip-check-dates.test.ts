/**
 * Check, Locate by dates, a deactivation date given at creation and Get in
 * the format registered in, against a real appliance (SoftHSM2, SQLite,
 * mutual TLS), on both wires: native Check answers the usages a key's mask
 * refuses and KMIP Check Incompatible Cryptographic Usage Mask (OASIS
 * BL-M-2, -3); native Locate ranges over the current instance's dates and
 * KMIP Locate by two values of a date attribute is that range (BL-M-4); the
 * native processStopAt and KMIP's Deactivation Date at Register end use and
 * read back (BL-M-7); Secret Data registered Raw is got back Raw. Refusals
 * are tested too: a bad range, a usage no key has, Check without the grant,
 * Usage Limits Count and Lease Time.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { bytesItem, dateItem, enumItem, intervalItem, maskItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { tagNumberOf } from '../../../protocol/kmip/kmip-message-fields';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { find } from '../../support/ttlv-find';

jest.setTimeout(120_000);

const DAY = 86_400;
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** The first node tagged `name` anywhere under `node`. */
type Described = { instances: Array<{ name: string; state: string; processStopAt: string | null; deactivatedAt: string | null }> };

describe('Check, Locate by dates, Deactivation Date at Register, Get as registered', () => {
  let t: TestAppliance;
  let native: RawConnection;
  let stranger: RawConnection;
  let officer: RawConnection;
  let kmip: KmipTlsClient;

  const call = async (operation: string, payload: TtlvNode): Promise<ResponseBatchItem> => (await kmip.call(operation, payload, { major: 2, minor: 1 })).batchItems[0];
  const uidOf = (item: ResponseBatchItem): string => find(item.responsePayload, 'UniqueIdentifier')?.value as string;

  async function registerSecret(name: string, format: string, attributes: TtlvNode[]): Promise<string> {
    const registered = await call('Register', structureItem('RequestPayload', [
      enumItem('ObjectType', 'SecretData'),
      structureItem('Attributes', [structureItem('Name', [textItem('NameValue', name), enumItem('NameType', 'UninterpretedTextString')]), ...attributes]),
      structureItem('SecretData', [
        enumItem('SecretDataType', 'Password'),
        structureItem('KeyBlock', [enumItem('KeyFormatType', format), structureItem('KeyValue', [bytesItem('KeyMaterial', Buffer.from('password'))])]),
      ]),
    ]));
    expect(registered.resultStatus).toBe('Success');
    return uidOf(registered);
  }

  beforeAll(async () => {
    t = await startTestAppliance();
    officer = await t.connect(t.officer);
    const credentials = t.issue('bl-app', 'app');
    const strangerCredentials = t.issue('bl-stranger', 'app');
    const grant = async (client: string, permissions: string[]): Promise<void> => {
      const answer = await officer.request('PolicyGrant', { client, pattern: 'bl/*', permissions });
      if (answer.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(answer)).state).toBe('executed');
      else expect(answer.error).toBeUndefined();
    };
    await grant('bl-app', ['create', 'register', 'get', 'locate', 'get-attributes', 'activate', 'encrypt', 'decrypt']);
    await grant('bl-stranger', ['locate', 'encrypt']);
    native = await t.connect(credentials);
    stranger = await t.connect(strangerCredentials);
    kmip = await KmipTlsClient.open(t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    kmip?.destroy();
    await t?.stop();
  });

  test('native Check: no failures for usage the mask allows; the usages it refuses, with what it allows; get-attributes needed; unknown usage refused', async () => {
    expect((await native.request('Create', { name: 'bl/enc-only', algorithm: 'AES-256', usage: ['encrypt'] })).error).toBeUndefined();
    const fine = await native.request('Check', { name: 'bl/enc-only', usage: ['encrypt'] });
    expect(fine.error).toBeUndefined();
    expect((fine.result as { failures: unknown[] }).failures).toEqual([]);
    const refused = await native.request('Check', { name: 'bl/enc-only', usage: ['encrypt', 'decrypt', 'wrap-key'] });
    expect((refused.result as { failures: unknown[] }).failures).toEqual([{ check: 'usage', missing: ['decrypt', 'wrap-key'], allowed: ['encrypt'] }]);
    expect((await stranger.request('Check', { name: 'bl/enc-only', usage: ['encrypt'] })).error?.code).toBe('PERMISSION_DENIED');
    const unknown = await native.request('Check', { name: 'bl/enc-only', usage: ['teleport'] });
    expect(unknown.error?.code).toBe('INVALID_ARGUMENT');
    expect(unknown.error?.message).toMatch(/unknown usage "teleport"/);
    // Audited as reads are: each Check is in the trail, naming the key.
    const trail = await officer.request('AuditSearch', { operation: 'Check', key: 'bl/enc-only' });
    expect(trail.error).toBeUndefined();
    expect((trail.result as { events: unknown[] }).events.length).toBeGreaterThanOrEqual(3);
  });

  test('KMIP Check: Success with the Unique Identifier; Incompatible Cryptographic Usage Mask (1.x: Permission Denied) for Decrypt and for a bit no key has; a Usage Limits Count passes a key without a limit, a Lease Time longer than the appliance lease is Permission Denied', async () => {
    const created = await call('Create', structureItem('RequestPayload', [
      enumItem('ObjectType', 'SymmetricKey'),
      structureItem('Attributes', [enumItem('CryptographicAlgorithm', 'AES'), { tag: tagNumberOf('CryptographicLength'), type: 'Integer', value: 128 }, maskItem('CryptographicUsageMask', ['Encrypt']), structureItem('Name', [textItem('NameValue', 'bl/kmip-check'), enumItem('NameType', 'UninterpretedTextString')])]),
    ]));
    expect(created.resultStatus).toBe('Success');
    const uid = uidOf(created);
    const check = (fields: TtlvNode[]) => call('Check', structureItem('RequestPayload', [textItem('UniqueIdentifier', uid), ...fields]));
    const passed = await check([maskItem('CryptographicUsageMask', ['Encrypt'])]);
    expect([passed.resultStatus, uidOf(passed)]).toEqual(['Success', uid]);
    const decrypt = await check([maskItem('CryptographicUsageMask', ['Decrypt'])]);
    expect([decrypt.resultStatus, decrypt.resultReason]).toEqual(['OperationFailed', 'IncompatibleCryptographicUsageMask']);
    expect(decrypt.resultMessage).toMatch(/does not allow decrypt/);
    // 1.x lacks that reason: Permission Denied, as the native wire's reasons fall back (common/error-codes.ts).
    const v14 = (await kmip.call('Check', structureItem('RequestPayload', [textItem('UniqueIdentifier', uid), maskItem('CryptographicUsageMask', ['Decrypt'])]), { major: 1, minor: 4 })).batchItems[0];
    expect([v14.resultStatus, v14.resultReason]).toEqual(['OperationFailed', 'PermissionDenied']);
    const agreement = await check([maskItem('CryptographicUsageMask', ['Encrypt', 'KeyAgreement'])]);
    expect([agreement.resultStatus, agreement.resultReason]).toEqual(['OperationFailed', 'IncompatibleCryptographicUsageMask']);
    expect(agreement.resultMessage).toMatch(/does not allow KeyAgreement/);
    // No usage limit on this key: any count is available (a key with one: test/server/usage-limits.test.ts).
    const limits = await check([{ tag: tagNumberOf('UsageLimitsCount'), type: 'LongInteger', value: 5n }]);
    expect([limits.resultStatus, uidOf(limits)]).toEqual(['Success', uid]);
    expect((await check([{ tag: tagNumberOf('UsageLimitsCount'), type: 'LongInteger', value: 0n }])).resultReason).toBe('InvalidField');
    expect((await check([intervalItem('LeaseTime', 3600)])).resultStatus).toBe('Success');
    const lease = await check([intervalItem('LeaseTime', 3601)]);
    expect([lease.resultStatus, lease.resultReason]).toEqual(['OperationFailed', 'PermissionDenied']);
    expect(lease.resultMessage).toMatch(/a lease of 3601 s asked; the appliance leases served material for 3600 s/);
  });

  test('native Locate by dates: a range of the current instance\'s date, ends included; outside it nothing; a bad range refused', async () => {
    const stop = '2000-01-31T14:00:00.000Z';
    expect((await native.request('Create', { name: 'bl/dated', protectStopAt: stop })).error).toBeUndefined();
    const names = async (dates: Record<string, string>): Promise<string[]> => {
      const answer = await native.request('Locate', { pattern: 'bl/*', dates });
      expect(answer.error).toBeUndefined();
      return (answer.result as { keys: Array<{ fullName: string }> }).keys.map((key) => key.fullName);
    };
    expect(await names({ protectStopAt: '2000-01-01T00:00:00Z/2000-02-10T00:00:00Z' })).toEqual(['bl/dated']);
    expect(await names({ protectStopAt: `${stop}/${stop}` })).toEqual(['bl/dated']);
    expect(await names({ protectStopAt: '2000-02-01T00:00:00Z/2000-03-01T00:00:00Z' })).toEqual([]);
    const backwards = await native.request('Locate', { dates: { protectStopAt: '2000-02-10T00:00:00Z/2000-01-01T00:00:00Z' } });
    expect(backwards.error?.code).toBe('INVALID_ARGUMENT');
    expect(backwards.error?.message).toMatch(/ends before it starts/);
    expect((await native.request('Locate', { dates: { updatedAt: '2000-01-01T00:00:00Z' } })).error?.message).toMatch(/not a date Locate ranges over/);
  });

  test('KMIP Locate by two values of Protect Stop Date is that range; three values are Invalid Field; Activation Date is refused by name', async () => {
    const uid = await registerSecret('bl/kmip-dated', 'Raw', [dateItem('ProtectStopDate', 949327200n)]); // 2000-02-01T00:00:00+10:00
    const locate = (attributes: TtlvNode[]) => call('Locate', structureItem('RequestPayload', [structureItem('Attributes', [enumItem('ObjectType', 'SecretData'), ...attributes])]));
    const inside = await locate([dateItem('ProtectStopDate', 946648800n), dateItem('ProtectStopDate', 950104800n)]);
    expect(inside.resultStatus).toBe('Success');
    expect(find(inside.responsePayload, 'UniqueIdentifier')?.value).toBe(uid);
    const outside = await locate([dateItem('ProtectStopDate', 949327201n), dateItem('ProtectStopDate', 949327200n + BigInt(DAY))]);
    expect(find(outside.responsePayload, 'UniqueIdentifier')).toBeUndefined();
    const three = await locate([dateItem('ProtectStopDate', 1n), dateItem('ProtectStopDate', 2n), dateItem('ProtectStopDate', 3n)]);
    expect([three.resultReason, three.resultMessage]).toEqual(['InvalidField', 'Locate: Protect Stop Date is given more than twice: one value is a date, two a range']);
    const activation = await locate([dateItem('ActivationDate', 1n), dateItem('ActivationDate', 2n)]);
    expect(activation.resultReason).toBe('FeatureNotSupported');
  });

  test('native processStopAt: a date past refuses use at once; one not after processStartAt is refused', async () => {
    const made = await native.request('Create', { name: 'bl/ended', processStopAt: '2000-02-03T00:00:00+10:00' });
    expect(made.error).toBeUndefined();
    expect((made.result as Described).instances[0].processStopAt).toBe('2000-02-02T14:00:00.000Z');
    const refused = await native.request('Encrypt', { name: 'bl/ended', plaintext: b64('x') });
    expect(refused.error?.code).toBe('WRONG_STATE');
    const inverted = await native.request('Create', { name: 'bl/never', processStartAt: '2030-01-02T00:00:00Z', processStopAt: '2030-01-01T00:00:00Z' });
    expect(inverted.error?.code).toBe('INVALID_ARGUMENT');
    expect(inverted.error?.message).toMatch(/processStopAt .* must be after processStartAt/);
  });

  test('KMIP Register with a Deactivation Date: GetAttributes reports it; Secret Data registered Raw is got back Raw, and Opaque Opaque', async () => {
    const raw = await registerSecret('bl/deactivating', 'Raw', [dateItem('ActivationDate', 949413600n), dateItem('DeactivationDate', 949500000n)]);
    const attributes = await call('GetAttributes', structureItem('RequestPayload', [textItem('UniqueIdentifier', raw)]));
    expect(find(attributes.responsePayload, 'DeactivationDate')?.value).toBe(949500000n);
    const got = await call('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', raw)]));
    expect(find(got.responsePayload, 'KeyFormatType')?.value).toBe(0x01); // Raw
    const opaque = await registerSecret('bl/opaque', 'Opaque', []);
    const gotOpaque = await call('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', opaque)]));
    expect(find(gotOpaque.responsePayload, 'KeyFormatType')?.value).toBe(0x02); // Opaque
    const asked = await call('Get', structureItem('RequestPayload', [textItem('UniqueIdentifier', raw), enumItem('KeyFormatType', 'Opaque')]));
    expect(find(asked.responsePayload, 'KeyFormatType')?.value).toBe(0x02);
  });
});
