/**
 * What the KMIP key operations refuse, against a real appliance, at 1.4 and
 * 2.1: a clear-text AES key offered to Register held for approval (no one
 * may plant a key the appliance generates alone), a client without a grant, an unknown Unique
 * Identifier, malformed payloads, formats not served; an officer's Get
 * without a grant answered Operation Pending (dual control); and the audit
 * trail, read over the native wire, naming key and instance of a KMIP Get.
 * Also the native wire's side of the extensions KMIP needed: Create with
 * `activate: false`, ReKey by instance.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { bytesItem, enumItem, integerItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { callOne, createPayload, getPayload, gotObject, registerSymmetricPayload, uidOf, V14, V21 } from '../../support/kmip-key-payloads';

jest.setTimeout(90_000);

const APP = 'kmip-refusals-app';
const STRANGER = 'kmip-stranger';
const VERSIONS = [
  ['1.4', V14],
  ['2.1', V21],
] as const;

function failed(item: ResponseBatchItem, reason: string, message: RegExp): void {
  expect({ status: item.resultStatus, reason: item.resultReason }).toEqual({ status: 'OperationFailed', reason });
  expect(item.resultMessage).toMatch(message);
  expect(item.responsePayload).toBeUndefined();
}

describe('KMIP key operations refuse', () => {
  let t: TestAppliance;
  let app: KmipTlsClient;
  let stranger: KmipTlsClient;
  let kmipOfficer: KmipTlsClient;
  let officer: RawConnection;
  /** An Active AES key the app may get, by its UID. */
  let uid: string;

  beforeAll(async () => {
    t = await startTestAppliance({ clear_key_import: 'dual-control' });
    const appCredentials = t.issue(APP, 'app');
    const strangerCredentials = t.issue(STRANGER, 'app');
    officer = await t.connect(t.officer);
    const granted = await officer.request('PolicyGrant', { client: APP, pattern: 'refusals/*', permissions: ['create', 'register', 'get', 'rekey'] });
    if (granted.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(granted)).state).toBe('executed');
    else expect(granted.error).toBeUndefined();
    app = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
    stranger = await KmipTlsClient.open(t.server.kmipPort!, strangerCredentials);
    kmipOfficer = await KmipTlsClient.open(t.server.kmipPort!, t.officer);
    uid = uidOf(await callOne(app, 'Create', createPayload(V21, { algorithm: 'AES', length: 256, name: 'refusals/held', activationDate: BigInt(Math.floor(Date.now() / 1000)) }), V21));
  });

  afterAll(async () => {
    for (const client of [app, stranger, kmipOfficer]) client?.destroy();
    await t?.stop();
  });

  describe.each(VERSIONS)('at %s', (label, version) => {
    test('Register of a clear-text AES key: Operation Pending (a key import officers must approve); nothing is stored meanwhile', async () => {
      const name = `refusals/planted-${label}`;
      for (const client of [app, kmipOfficer]) {
        const held = await callOne(client, 'Register', registerSymmetricPayload(version, new Uint8Array(32).fill(0x41), { name }), version);
        expect(held).toMatchObject({ resultStatus: 'OperationPending' });
        expect(held.responsePayload).toBeUndefined();
        const cancelled = await callOne(client, 'Cancel', structureItem('RequestPayload', [bytesItem('AsynchronousCorrelationValue', held.asynchronousCorrelationValue!)]), version);
        expect(cancelled.resultStatus).toBe('Success');
      }
      expect((await officer.request('GetAttributes', { name })).error?.code).toBe('KEY_NOT_FOUND');
    });

    test('a client without a grant: Create, Get and ReKey are Permission Denied, naming the grant it needs', async () => {
      failed(await callOne(stranger, 'Create', createPayload(version, { algorithm: 'AES', length: 128, name: 'refusals/not-mine' }), version), 'PermissionDenied', /may not create refusals\/not-mine.*policy grant/);
      failed(await callOne(stranger, 'Get', getPayload(uid), version), 'PermissionDenied', new RegExp(`may not get instance ${uid}`));
      failed(await callOne(stranger, 'ReKey', structureItem('RequestPayload', [textItem('UniqueIdentifier', uid)]), version), 'PermissionDenied', /may not rekey/);
    });

    test('an unknown Unique Identifier: Object Not Found (Item Not Found in 1.x) for an officer; Permission Denied for an app, which learns nothing of what exists', async () => {
      failed(await callOne(kmipOfficer, 'Get', getPayload('no-such-instance'), version), version.major >= 2 ? 'ObjectNotFound' : 'ItemNotFound', /^INSTANCE_NOT_FOUND: no instance named "no-such-instance"/);
      failed(await callOne(app, 'Get', getPayload('no-such-instance'), version), 'PermissionDenied', /may not get instance no-such-instance/);
    });

    test.each([
      ['a Unique Identifier that is not text', 'Get', structureItem('RequestPayload', [integerItem('UniqueIdentifier', 7)]), /UniqueIdentifier must be a TextString, not a Integer/],
      ['a Create without Object Type', 'Create', structureItem('RequestPayload', []), /ObjectType is required/],
      ['a Create with a field Create does not have', 'Create', structureItem('RequestPayload', [enumItem('ObjectType', 'SymmetricKey'), textItem('UniqueIdentifier', 'x')]), /UniqueIdentifier is not supported here/],
      ['an AES key without a length', 'Create', structureItem('RequestPayload', [enumItem('ObjectType', 'SymmetricKey')]), /Cryptographic Algorithm is required/],
      ['Secret Data without its Key Block', 'Register', structureItem('RequestPayload', [enumItem('ObjectType', 'SecretData'), structureItem('SecretData', [enumItem('SecretDataType', 'Password')])]), /SecretData\/KeyBlock is required/],
    ])('%s: Invalid Field', async (_what, operation, payload, message) => {
      failed(await callOne(app, operation, payload, version), 'InvalidField', message);
    });

    test('formats not served: Key Format Type Not Supported; a wrapped export other than AES Key Wrap Padding: Feature Not Supported', async () => {
      failed(await callOne(app, 'Get', getPayload(uid, 'PKCS_1'), version), 'KeyFormatTypeNotSupported', /PKCS_1 is not served for a SymmetricKey: ask for Raw or TransparentSymmetricKey/);
      failed(await callOne(app, 'Get', getPayload(uid, 'Opaque'), version), 'KeyFormatTypeNotSupported', /Opaque is not served for a SymmetricKey/);
      const information = structureItem('EncryptionKeyInformation', [textItem('UniqueIdentifier', uid), structureItem('CryptographicParameters', [enumItem('BlockCipherMode', 'NISTKeyWrap')])]);
      const wrapped = getPayload(uid, undefined, [structureItem('KeyWrappingSpecification', [enumItem('WrappingMethod', 'Encrypt'), information])]);
      failed(await callOne(app, 'Get', wrapped, version), 'FeatureNotSupported', /BlockCipherMode: NISTKeyWrap is not offered/);
    });

    test('an officer\'s Get without a grant is Operation Pending (a key-export request, whose id is the correlation value); once approved, Poll answers the key', async () => {
      const item = await callOne(kmipOfficer, 'Get', getPayload(uid), version);
      expect(item.resultStatus).toBe('OperationPending');
      expect(item.responsePayload).toBeUndefined();
      const requestId = Buffer.from(item.asynchronousCorrelationValue as Uint8Array).toString('utf8');
      const approver = await t.connect(t.approvers[0]);
      const shown = await approver.request('ApprovalGet', { id: requestId });
      expect(shown.error).toBeUndefined();
      expect(shown.result).toMatchObject({ request: { id: requestId, class: 'key-export', requester: 'test-officer' } });

      // Two other officers approve; the requester's Poll then answers what the Get would have: the key, in its default format.
      const digest = (shown.result as { request: { digest: string } }).request.digest;
      for (const credentials of t.approvers) {
        const voter = await t.connect(credentials);
        expect((await voter.request('ApprovalApprove', { id: requestId, digest })).error).toBeUndefined();
      }
      const polled = gotObject(await callOne(kmipOfficer, 'Poll', structureItem('RequestPayload', [bytesItem('AsynchronousCorrelationValue', item.asynchronousCorrelationValue as Uint8Array)]), version));
      expect(polled).toMatchObject({ objectType: 'SymmetricKey', uid, format: 'Raw', algorithm: 'AES', length: 256 });
      const appCopy = gotObject(await callOne(app, 'Get', getPayload(uid), version));
      expect(polled.material.equals(appCopy.material)).toBe(true);
    });
  });

  test('the audit trail names the key and instance of a KMIP Get, served or refused, and never its material', async () => {
    const material = gotObject(await callOne(app, 'Get', getPayload(uid), V14)).material;
    failed(await callOne(stranger, 'Get', getPayload(uid), V21), 'PermissionDenied', /may not get/);
    const auditor = await t.connect(t.issue('kmip-refusals-auditor', 'auditor'));
    const search = async (identity: string): Promise<Array<Record<string, unknown>>> => {
      const found = await auditor.request('AuditSearch', { identity, operation: 'Get', key: 'refusals/held' });
      expect(found.error).toBeUndefined();
      return (found.result as { events: Array<{ event: Record<string, unknown> }> }).events.map((e) => e.event);
    };
    const served = await search(APP);
    expect(served).toContainEqual(expect.objectContaining({ identity: expect.objectContaining({ name: APP }), operation: 'Get', key: 'refusals/held', instance: uid, result: 'ok' }));
    const refused = await search(STRANGER);
    expect(refused).toContainEqual(expect.objectContaining({ identity: expect.objectContaining({ name: STRANGER }), key: 'refusals/held', instance: uid, result: 'PERMISSION_DENIED' }));
    const trail = JSON.stringify([...served, ...refused]);
    expect(trail).toMatch(/kmip/);
    expect(trail).not.toContain(material.toString('hex'));
    expect(trail).not.toContain(material.toString('base64'));
  });

  describe('the native wire, which KMIP extended', () => {
    test('Create with activate: false leaves the key PreActive; ReKey by a current instance rolls it, by a replaced one is WRONG_STATE', async () => {
      const created = await officer.request('Create', { name: 'native/pre', activate: false });
      expect(created.error).toBeUndefined();
      const first = (created.result as { instances: Array<{ name: string; state: string }> }).instances[0];
      expect(first.state).toBe('PreActive');
      expect((await officer.request('Activate', { instance: first.name })).error).toBeUndefined();
      const rolled = await officer.request('ReKey', { instance: first.name });
      expect(rolled.error).toBeUndefined();
      const current = (rolled.result as { key: { currentInstance: string } }).key.currentInstance;
      expect(current).not.toBe(first.name);
      const again = await officer.request('ReKey', { instance: first.name });
      expect(again.error).toMatchObject({ code: 'WRONG_STATE', details: { instance: first.name, current } });
      expect((await officer.request('ReKey', {})).error?.code).toBe('INVALID_REQUEST');
    });
  });
});
