/**
 * AES-ECB, the ChaCha20 stream cipher and a key's own Cryptographic
 * Parameters against a real appliance (SoftHSM2, SQLite, mutual TLS), on
 * both wires: ECB and ChaCha20 answers node:crypto agrees with under the
 * key's material (fetched by a native Get with a grant); ECB encryption
 * refused without `get` on either wire (it is the bare block cipher),
 * ECB decryption allowed with `decrypt`; Cryptographic Parameters given at
 * Create kept with the key and used by an Encrypt or Decrypt that sends
 * none (reading them needs `get-attributes`, and a client without it is
 * told to name the mode); kept fields for other uses left aside, and a
 * kept mode the appliance lacks refused when it would be used.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { booleanItem, bytesItem, dateItem, enumItem, integerItem, maskItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { tagNumberOf } from '../../../protocol/kmip/kmip-message-fields';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

jest.setTimeout(120_000);

type Params = { mode?: string; padding?: string; randomIv?: boolean; counter?: number; hashing?: string };

function parameters(p: Params): TtlvNode {
  return structureItem('CryptographicParameters', [
    p.mode === undefined ? undefined : enumItem('BlockCipherMode', p.mode),
    p.padding === undefined ? undefined : enumItem('PaddingMethod', p.padding),
    p.hashing === undefined ? undefined : enumItem('HashingAlgorithm', p.hashing),
    p.randomIv === undefined ? undefined : booleanItem('RandomIV', p.randomIv),
    p.counter === undefined ? undefined : integerItem('InitialCounterValue', p.counter),
  ]);
}

function cipherPayload(uid: string, f: { params?: Params; data: Buffer; iv?: Buffer }): TtlvNode {
  return structureItem('RequestPayload', [
    textItem('UniqueIdentifier', uid),
    f.params === undefined ? undefined : parameters(f.params),
    bytesItem('Data', f.data),
    f.iv === undefined ? undefined : bytesItem('IVCounterNonce', f.iv),
  ]);
}

/** A KMIP 2.1 Create of an active AES-128 key named `name`, with the Cryptographic Parameters given. */
function createPayload(name: string, params: Params): TtlvNode {
  return structureItem('RequestPayload', [
    enumItem('ObjectType', 'SymmetricKey'),
    structureItem('Attributes', [
      enumItem('CryptographicAlgorithm', 'AES'),
      integerItem('CryptographicLength', 128),
      maskItem('CryptographicUsageMask', ['Encrypt', 'Decrypt']),
      structureItem('Name', [textItem('NameValue', name), enumItem('NameType', 'UninterpretedTextString')]),
      parameters(params),
      dateItem('ActivationDate', BigInt(Math.floor(Date.now() / 1000) - 60)),
    ]),
  ]);
}

function field(item: ResponseBatchItem, name: string): unknown {
  const children = (item.responsePayload?.value ?? []) as TtlvNode[];
  return children.find((child) => child.tag === tagNumberOf(name))?.value;
}
const bytesOf = (item: ResponseBatchItem, name: string): Buffer | undefined => {
  const value = field(item, name) as Uint8Array | undefined;
  return value === undefined ? undefined : Buffer.from(value);
};
const b64 = (bytes: Buffer): string => bytes.toString('base64');

describe('AES-ECB, ChaCha20 and a key\'s own Cryptographic Parameters', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  /** create, encrypt, decrypt, get-attributes on cm/*: no get. */
  let app: KmipTlsClient;
  let appNative: RawConnection;
  /** The same and get: may use ECB and choose IVs; its native connection fetches material. */
  let holder: KmipTlsClient;
  let holderNative: RawConnection;
  /** encrypt and decrypt only. */
  let plain: KmipTlsClient;

  const call = async (client: KmipTlsClient, operation: string, payload: TtlvNode): Promise<ResponseBatchItem> => (await client.call(operation, payload)).batchItems[0];

  async function createKey(name: string, args: Record<string, unknown> = {}): Promise<string> {
    const answer = await officer.request('Create', { name, ...args });
    expect(answer.error).toBeUndefined();
    return (answer.result as { instances: Array<{ name: string }> }).instances[0].name;
  }

  async function materialOf(instance: string): Promise<Buffer> {
    const answer = await holderNative.request('Get', { instance });
    expect(answer.error).toBeUndefined();
    return Buffer.from((answer.result as { material: string }).material, 'base64');
  }

  const ecb = (material: Buffer, data: Buffer, padded: boolean): Buffer => {
    const cipher = createCipheriv(`aes-${material.length * 8}-ecb`, material, null);
    cipher.setAutoPadding(padded);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  };

  beforeAll(async () => {
    t = await startTestAppliance();
    const grant = async (client: string, permissions: string[]): Promise<void> => {
      const answer = await officer.request('PolicyGrant', { client, pattern: 'cm/*', permissions });
      if (answer.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(answer)).state).toBe('executed');
      else expect(answer.error).toBeUndefined();
    };
    const appCredentials = t.issue('cm-app', 'app');
    const holderCredentials = t.issue('cm-holder', 'app');
    const plainCredentials = t.issue('cm-plain', 'app');
    // Issued before the officer connects: issuing blocks the event loop, and under load long enough for the server to drop a fresh TLS 1.3 connection (the client resolves before the server reads its Finished).
    officer = await t.connect(t.officer);
    await grant('cm-app', ['create', 'encrypt', 'decrypt', 'get-attributes']);
    await grant('cm-holder', ['create', 'encrypt', 'decrypt', 'get-attributes', 'get']);
    await grant('cm-plain', ['encrypt', 'decrypt']);
    app = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
    holder = await KmipTlsClient.open(t.server.kmipPort!, holderCredentials);
    plain = await KmipTlsClient.open(t.server.kmipPort!, plainCredentials);
    appNative = await t.connect(appCredentials);
    holderNative = await t.connect(holderCredentials);
  });

  afterAll(async () => {
    for (const client of [app, holder, plain]) client?.destroy();
    await t?.stop();
  });

  test('native ECB: refused without get, node:crypto\'s answer with it, and decrypted with decrypt alone; no IV either way', async () => {
    const uid = await createKey('cm/native-ecb');
    const block = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const refused = await appNative.request('Encrypt', { instance: uid, plaintext: b64(block), mode: 'AES-ECB' });
    expect(refused.error?.code).toBe('PERMISSION_DENIED');
    expect(refused.error?.message).toMatch(/ECB.*get permission/);
    const sealed = await holderNative.request('Encrypt', { instance: uid, plaintext: b64(block), mode: 'AES-ECB' });
    expect(sealed.error).toBeUndefined();
    const result = sealed.result as { ciphertext: string; iv?: string };
    expect(result.iv).toBeUndefined();
    expect(Buffer.from(result.ciphertext, 'base64').equals(ecb(await materialOf(uid), block, false))).toBe(true);
    const opened = await appNative.request('Decrypt', { instance: uid, ciphertext: result.ciphertext, mode: 'AES-ECB' });
    expect(opened.error).toBeUndefined();
    expect(Buffer.from((opened.result as { plaintext: string }).plaintext, 'base64').equals(block)).toBe(true);
    const withIv = await holderNative.request('Encrypt', { instance: uid, plaintext: b64(block), mode: 'AES-ECB', iv: b64(Buffer.alloc(16)) });
    expect(withIv.error?.code).toBe('INVALID_ARGUMENT');
  });

  test('native ChaCha20: a drawn nonce and an initial counter, node:crypto agrees; the counter needs the mode', async () => {
    const uid = await createKey('cm/native-chacha', { algorithm: 'CHACHA20' });
    const plaintext = Buffer.alloc(70, 0x61);
    const sealed = await appNative.request('Encrypt', { instance: uid, plaintext: b64(plaintext), mode: 'CHACHA20', initialCounter: 7 });
    expect(sealed.error).toBeUndefined();
    const result = sealed.result as { ciphertext: string; iv: string };
    const nonce = Buffer.from(result.iv, 'base64');
    expect(nonce).toHaveLength(12);
    const openSslIv = Buffer.concat([Buffer.from([7, 0, 0, 0]), nonce]);
    const expected = createCipheriv('chacha20', await materialOf(uid), openSslIv).update(plaintext);
    expect(Buffer.from(result.ciphertext, 'base64').equals(expected)).toBe(true);
    const opened = await appNative.request('Decrypt', { instance: uid, ciphertext: result.ciphertext, mode: 'CHACHA20', iv: result.iv, initialCounter: 7 });
    expect(Buffer.from((opened.result as { plaintext: string }).plaintext, 'base64').equals(plaintext)).toBe(true);
    expect((await appNative.request('Encrypt', { instance: uid, plaintext: b64(plaintext), initialCounter: 7 })).error?.code).toBe('INVALID_ARGUMENT');
  });

  test('KMIP ECB bare and PKCS5: node:crypto\'s answers to a client with get, Permission Denied to one without, Decrypt for decrypt alone', async () => {
    const uid = await createKey('cm/kmip-ecb', { algorithm: 'AES-128' });
    const material = await materialOf(uid);
    const data = Buffer.alloc(33, 0x42);
    const padded = await call(holder, 'Encrypt', cipherPayload(uid, { params: { mode: 'ECB', padding: 'PKCS5' }, data }));
    expect(padded.resultStatus).toBe('Success');
    expect(field(padded, 'IVCounterNonce')).toBeUndefined();
    expect(bytesOf(padded, 'Data')?.equals(ecb(material, data, true))).toBe(true);
    const opened = await call(plain, 'Decrypt', cipherPayload(uid, { params: { mode: 'ECB', padding: 'PKCS5' }, data: bytesOf(padded, 'Data') as Buffer }));
    expect(bytesOf(opened, 'Data')?.equals(data)).toBe(true);
    const bare = await call(holder, 'Encrypt', cipherPayload(uid, { params: { mode: 'ECB' }, data: data.subarray(0, 32) }));
    expect(bytesOf(bare, 'Data')?.equals(ecb(material, data.subarray(0, 32), false))).toBe(true);
    const refused = await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'ECB' }, data: data.subarray(0, 16) }));
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(refused.resultMessage).toMatch(/^PERMISSION_DENIED: .*ECB/);
    const partial = await call(holder, 'Encrypt', cipherPayload(uid, { params: { mode: 'ECB' }, data }));
    expect(partial).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
  });

  test('KMIP ChaCha20 on a CHACHA20 key with empty parameters: the 64-bit-nonce stream node:crypto agrees with, and an Initial Counter Value', async () => {
    const uid = await createKey('cm/kmip-chacha', { algorithm: 'CHACHA20' });
    const material = await materialOf(uid);
    const nonce = Buffer.from('0000000000000001', 'hex');
    const data = Buffer.alloc(60);
    const sealed = await call(holder, 'Encrypt', cipherPayload(uid, { params: {}, data, iv: nonce }));
    expect(sealed.resultStatus).toBe('Success');
    const stream = (counter: number): Buffer => createCipheriv('chacha20', material, Buffer.concat([Buffer.from([counter, 0, 0, 0, 0, 0, 0, 0]), nonce])).update(data);
    expect(bytesOf(sealed, 'Data')?.equals(stream(0))).toBe(true);
    const opened = await call(app, 'Decrypt', cipherPayload(uid, { params: {}, data: bytesOf(sealed, 'Data') as Buffer, iv: nonce }));
    expect(bytesOf(opened, 'Data')?.equals(data)).toBe(true);
    const counted = await call(holder, 'Encrypt', cipherPayload(uid, { params: { counter: 3 }, data, iv: nonce }));
    expect(bytesOf(counted, 'Data')?.equals(stream(3))).toBe(true);
    // Without get, the nonce is the server's: drawn, 96 bits, answered.
    const drawn = await call(app, 'Encrypt', cipherPayload(uid, { params: {}, data }));
    expect(bytesOf(drawn, 'IVCounterNonce')).toHaveLength(12);
  });

  test('Cryptographic Parameters at Create are the key\'s defaults: ECB for an Encrypt that sends none, CBC with Random IV, and its IV needed to decrypt', async () => {
    const ecbKey = await call(holder, 'Create', createPayload('cm/default-ecb', { mode: 'ECB' }));
    expect(ecbKey.resultStatus).toBe('Success');
    const uid = field(ecbKey, 'UniqueIdentifier') as string;
    const block = Buffer.from('01020304050607080910111213141516', 'hex');
    const sealed = await call(holder, 'Encrypt', cipherPayload(uid, { data: block }));
    expect(sealed.resultStatus).toBe('Success');
    expect(bytesOf(sealed, 'Data')?.equals(ecb(await materialOf(uid), block, false))).toBe(true);
    expect(bytesOf(await call(app, 'Decrypt', cipherPayload(uid, { data: bytesOf(sealed, 'Data') as Buffer })), 'Data')?.equals(block)).toBe(true);
    // The defaults chose ECB: the permission is still the native one.
    expect(await call(app, 'Encrypt', cipherPayload(uid, { data: block }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    const described = await holderNative.request('GetAttributes', { instance: uid });
    expect((described.result as { key: { customAttributes: Record<string, string> } }).key.customAttributes['kmip.CryptographicParameters']).toMatch(/"BlockCipherMode".*"ECB"/);

    const cbcKey = field(await call(app, 'Create', createPayload('cm/default-cbc', { mode: 'CBC', padding: 'PKCS5', randomIv: true })), 'UniqueIdentifier') as string;
    const data = Buffer.alloc(20, 7);
    const cbc = await call(app, 'Encrypt', cipherPayload(cbcKey, { data }));
    const iv = bytesOf(cbc, 'IVCounterNonce') as Buffer;
    expect(iv).toHaveLength(16);
    const decipher = createDecipheriv('aes-128-cbc', await materialOf(cbcKey), iv);
    expect(Buffer.concat([decipher.update(bytesOf(cbc, 'Data') as Buffer), decipher.final()]).equals(data)).toBe(true);
    expect(await call(app, 'Decrypt', cipherPayload(cbcKey, { data: bytesOf(cbc, 'Data') as Buffer }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
    expect(bytesOf(await call(app, 'Decrypt', cipherPayload(cbcKey, { data: bytesOf(cbc, 'Data') as Buffer, iv })), 'Data')?.equals(data)).toBe(true);
    // A request that names a mode uses its own.
    expect(bytesOf(await call(app, 'Encrypt', cipherPayload(cbcKey, { params: { mode: 'GCM' }, data })), 'IVCounterNonce')).toHaveLength(12);
  });

  test('reading a key\'s defaults needs get-attributes: a client without it is told to name the mode; kept parameters for other uses are left aside, a mode not served is refused at use', async () => {
    const uid = await createKey('cm/no-read');
    const refused = await call(plain, 'Encrypt', cipherPayload(uid, { data: Buffer.from('x') }));
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(refused.resultMessage).toMatch(/get-attributes.*name the mode/);
    expect((await call(plain, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM' }, data: Buffer.from('x') }))).resultStatus).toBe('Success');

    const ctr = field(await call(holder, 'Create', createPayload('cm/ctr', { mode: 'CTR' })), 'UniqueIdentifier') as string;
    const notServed = await call(holder, 'Encrypt', cipherPayload(ctr, { data: Buffer.alloc(16) }));
    expect(notServed).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'FeatureNotSupported' });
    expect(notServed.resultMessage).toMatch(/CTR/);
    const hashing = field(await call(holder, 'Create', createPayload('cm/hashing', { mode: 'CBC', padding: 'PKCS5', hashing: 'SHA_256' })), 'UniqueIdentifier') as string;
    expect(bytesOf(await call(holder, 'Encrypt', cipherPayload(hashing, { data: Buffer.alloc(16) })), 'IVCounterNonce')).toHaveLength(16);
    // A request's own parameters take no field Encrypt does not read.
    expect(await call(holder, 'Encrypt', cipherPayload(hashing, { params: { mode: 'CBC', padding: 'PKCS5', hashing: 'SHA_256' }, data: Buffer.alloc(16) }))).toMatchObject({ resultReason: 'InvalidField' });
  });
});
