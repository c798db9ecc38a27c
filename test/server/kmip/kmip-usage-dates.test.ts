/**
 * Usage dates given when a key is made (domain/usage-dates.ts) against a
 * real appliance (SoftHSM2, SQLite, mutual TLS), on both wires: a
 * protect-stop date ends encryption and a process-start date holds back
 * decryption (both WRONG_STATE natively, Wrong Key Lifecycle State over
 * KMIP, as OASIS CS-BC-M-14 expects); dates come and gone allow both; a
 * given protect-stop survives activation of a PreActive instance; the
 * dates read back (native views, KMIP GetAttributes); malformed dates are
 * refused precisely, Usage Limits without a unit are refused naming it
 * (test/server/usage-limits.test.ts has the budget itself), and ReKey still
 * takes no attributes.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { bytesItem, dateItem, enumItem, integerItem, longItem, maskItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { find } from '../../support/ttlv-find';

jest.setTimeout(120_000);

const HOUR = 3600;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
const b64 = (bytes: Buffer): string => bytes.toString('base64');

/** The first node tagged `name` anywhere under `node`. */
type Instance = { name: string; protectStopAt: string | null; processStartAt?: string };

describe('usage dates given at creation: protect-stop and process-start', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let native: RawConnection;
  let kmip: KmipTlsClient;

  const call = async (operation: string, payload: TtlvNode, version = { major: 2, minor: 1 }): Promise<ResponseBatchItem> =>
    (await kmip.call(operation, payload, version)).batchItems[0];

  async function create(name: string, args: Record<string, unknown>): Promise<Instance> {
    const answer = await native.request('Create', { name, ...args });
    expect(answer.error).toBeUndefined();
    return (answer.result as { instances: Instance[] }).instances[0];
  }

  const encrypt = (instance: string) => native.request('Encrypt', { instance, plaintext: b64(Buffer.from('payroll')) });
  /** What Decrypt takes of an Encrypt's answer. */
  const sealedArgs = (result: unknown) => {
    const { ciphertext, iv, tag } = result as { ciphertext: string; iv: string; tag: string };
    return { ciphertext, iv, tag };
  };

  beforeAll(async () => {
    t = await startTestAppliance();
    officer = await t.connect(t.officer);
    const credentials = t.issue('ud-app', 'app');
    const answer = await officer.request('PolicyGrant', { client: 'ud-app', pattern: 'ud/*', permissions: ['create', 'encrypt', 'decrypt', 'get-attributes', 'activate', 'rekey'] });
    if (answer.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(answer)).state).toBe('executed');
    else expect(answer.error).toBeUndefined();
    native = await t.connect(credentials);
    kmip = await KmipTlsClient.open(t.server.kmipPort!, credentials);
  });

  afterAll(async () => {
    kmip?.destroy();
    await t?.stop();
  });

  test('native: past protect-stop refuses Encrypt, future process-start refuses Decrypt, both WRONG_STATE; the view shows them', async () => {
    const now = nowSeconds();
    const instance = await create('ud/held', { protectStopAt: iso(now - HOUR), processStartAt: iso(now + HOUR) });
    expect(instance.protectStopAt).toBe(iso(now - HOUR));
    expect(instance.processStartAt).toBe(iso(now + HOUR));
    const refusedEncrypt = await encrypt(instance.name);
    expect(refusedEncrypt.error?.code).toBe('WRONG_STATE');
    expect(refusedEncrypt.error?.message).toMatch(/past its protect-stop date/);
    // A bare AES-ECB block: any 16 bytes are a well-formed ciphertext, so only the date can refuse it (as in OASIS CS-BC-M-14).
    const refusedDecrypt = await native.request('Decrypt', { instance: instance.name, ciphertext: b64(Buffer.alloc(16, 7)), mode: 'AES-ECB' });
    expect(refusedDecrypt.error?.code).toBe('WRONG_STATE');
    expect(refusedDecrypt.error?.message).toMatch(/before its process-start date .*has not begun/);
  });

  test('native: a process-start date come and a protect-stop date to come allow both; an instance without dates shows none', async () => {
    const now = nowSeconds();
    const instance = await create('ud/open-dates', { protectStopAt: iso(now + HOUR), processStartAt: iso(now - HOUR) });
    const sealed = await encrypt(instance.name);
    expect(sealed.error).toBeUndefined();
    const opened = await native.request('Decrypt', { instance: instance.name, ...sealedArgs(sealed.result) });
    expect(opened.error).toBeUndefined();
    expect(Buffer.from((opened.result as { plaintext: string }).plaintext, 'base64').toString()).toBe('payroll');
    const plain = await create('ud/no-dates', {});
    expect(plain.protectStopAt).toBeNull();
    expect('processStartAt' in plain).toBe(false);
  });

  test('native: a PreActive instance keeps its given protect-stop date when it is activated', async () => {
    const instance = await create('ud/pre-active', { activate: false, protectStopAt: iso(nowSeconds() - HOUR) });
    const activated = await native.request('Activate', { instance: instance.name });
    expect(activated.error).toBeUndefined();
    const refused = await encrypt(instance.name);
    expect(refused.error?.code).toBe('WRONG_STATE');
    expect(refused.error?.message).toMatch(/past its protect-stop date/);
  });

  test('native: a date without a zone or not a date is refused naming the field', async () => {
    const noZone = await native.request('Create', { name: 'ud/bad-1', processStartAt: '2027-01-01T00:00:00' });
    expect(noZone.error?.code).toBe('INVALID_ARGUMENT');
    expect(noZone.error?.message).toMatch(/processStartAt .* not an ISO 8601 date-time with a zone/);
    const junk = await native.request('Create', { name: 'ud/bad-2', protectStopAt: 'tomorrow' });
    expect(junk.error?.code).toBe('INVALID_ARGUMENT');
    expect(junk.error?.message).toMatch(/protectStopAt/);
  });

  test('KMIP 2.1: Protect Stop Date and Process Start Date at Create; Encrypt and Decrypt answer Wrong Key Lifecycle State; GetAttributes reports them', async () => {
    const now = nowSeconds();
    const created = await call('Create', structureItem('RequestPayload', [
      enumItem('ObjectType', 'SymmetricKey'),
      structureItem('Attributes', [
        enumItem('CryptographicAlgorithm', 'AES'),
        integerItem('CryptographicLength', 128),
        maskItem('CryptographicUsageMask', ['Encrypt', 'Decrypt']),
        structureItem('Name', [textItem('NameValue', 'ud/kmip-21'), enumItem('NameType', 'UninterpretedTextString')]),
        dateItem('ActivationDate', BigInt(now - HOUR)),
        dateItem('ProcessStartDate', BigInt(now + HOUR)),
        dateItem('ProtectStopDate', BigInt(now - HOUR)),
      ]),
    ]));
    expect(created.resultStatus).toBe('Success');
    const uid = find(created.responsePayload, 'UniqueIdentifier')?.value as string;
    const data = (mode?: string) => structureItem('RequestPayload', [
      textItem('UniqueIdentifier', uid),
      mode === undefined ? undefined : structureItem('CryptographicParameters', [enumItem('BlockCipherMode', mode)]),
      bytesItem('Data', Buffer.alloc(16, 1)),
    ]);
    const encrypted = await call('Encrypt', data());
    expect([encrypted.resultStatus, encrypted.resultReason]).toEqual(['OperationFailed', 'WrongKeyLifecycleState']);
    expect(encrypted.resultMessage).toMatch(/protect-stop/);
    const decrypted = await call('Decrypt', data('ECB'));
    expect([decrypted.resultStatus, decrypted.resultReason]).toEqual(['OperationFailed', 'WrongKeyLifecycleState']);
    expect(decrypted.resultMessage).toMatch(/process-start/);
    const attributes = await call('GetAttributes', structureItem('RequestPayload', [textItem('UniqueIdentifier', uid)]));
    expect(attributes.resultStatus).toBe('Success');
    expect(find(attributes.responsePayload, 'ProcessStartDate')?.value).toBe(BigInt(now + HOUR));
    expect(find(attributes.responsePayload, 'ProtectStopDate')?.value).toBe(BigInt(now - HOUR));
  });

  test('KMIP 1.4: the Template-Attribute names, Permission Denied before the Process Start Date; a date of the wrong type is Invalid Field; Usage Limits without a unit refused naming it; ReKey still takes no dates', async () => {
    const now = nowSeconds();
    const attribute = (name: string, value: TtlvNode): TtlvNode => structureItem('Attribute', [textItem('AttributeName', name), value]);
    const template = (dates: TtlvNode[]): TtlvNode => structureItem('RequestPayload', [
      enumItem('ObjectType', 'SymmetricKey'),
      structureItem('TemplateAttribute', [
        attribute('Cryptographic Algorithm', enumItem('AttributeValue', 'AES', 'CryptographicAlgorithm')),
        attribute('Cryptographic Length', integerItem('AttributeValue', 128)),
        attribute('Cryptographic Usage Mask', maskItem('AttributeValue', ['Encrypt', 'Decrypt'], 'CryptographicUsageMask')),
        attribute('Activation Date', dateItem('AttributeValue', BigInt(now - HOUR))),
        ...dates,
      ]),
    ]);
    const v14 = { major: 1, minor: 4 };
    const created = await call('Create', template([attribute('Process Start Date', dateItem('AttributeValue', BigInt(now + HOUR))), attribute('Name', structureItem('AttributeValue', [textItem('NameValue', 'ud/kmip-14'), enumItem('NameType', 'UninterpretedTextString')]))]), v14);
    expect(created.resultStatus).toBe('Success');
    const uid = find(created.responsePayload, 'UniqueIdentifier')?.value as string;
    const decrypted = await call('Decrypt', structureItem('RequestPayload', [
      textItem('UniqueIdentifier', uid),
      structureItem('CryptographicParameters', [enumItem('BlockCipherMode', 'ECB')]),
      bytesItem('Data', Buffer.alloc(16, 1)),
    ]), v14);
    expect(decrypted.resultMessage).toMatch(/WRONG_STATE: .* before its process-start date/);
    // 1.x has no Wrong Key Lifecycle State for it: Permission Denied, as the OASIS 1.4 cases (CS-BC-M-14-14) expect.
    expect([decrypted.resultStatus, decrypted.resultReason]).toEqual(['OperationFailed', 'PermissionDenied']);
    const wrongType = await call('Create', template([attribute('Protect Stop Date', textItem('AttributeValue', 'yesterday'))]), v14);
    expect([wrongType.resultStatus, wrongType.resultReason]).toEqual(['OperationFailed', 'InvalidField']);
    expect(wrongType.resultMessage).toMatch(/Protect Stop Date must be a DateTime/);
    const limited = await call('Create', template([attribute('Usage Limits', structureItem('AttributeValue', [
      longItem('UsageLimitsTotal', 16n),
    ]))]), v14);
    expect([limited.resultStatus, limited.resultReason]).toEqual(['OperationFailed', 'InvalidField']);
    expect(limited.resultMessage).toMatch(/^Usage Limits needs a Usage Limits Unit/);
    const rekeyed = await call('ReKey', structureItem('RequestPayload', [
      textItem('UniqueIdentifier', uid),
      structureItem('TemplateAttribute', [attribute('Protect Stop Date', dateItem('AttributeValue', BigInt(now)))]),
    ]), v14);
    expect([rekeyed.resultStatus, rekeyed.resultReason]).toEqual(['OperationFailed', 'FeatureNotSupported']);
  });
});
