/**
 * KMIP Encrypt and Decrypt against a real appliance (SoftHSM2, SQLite,
 * mutual TLS), keys made and granted on the native wire: known answers
 * both ways with node:crypto under the key's material (fetched by a native
 * Get with a grant) for AES-GCM with AAD, AES-CBC with PKCS5 padding and
 * ChaCha20-Poly1305; a wrong tag or AAD as Cryptographic Failure; IVs drawn
 * and answered, or the client's only with `get` as well; instance state,
 * grants and usage mask refused with their Result Reasons; the GCM
 * invocation budget shared by both wires; and what is not served
 * (a streamed Decrypt, ECB encryption without `get`) refused precisely.
 */
import { createCipheriv, createDecipheriv, DecipherGCM, randomBytes } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../../protocol/kmip/kmip-message';
import { booleanItem, bytesItem, enumItem, integerItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { tagNumberOf } from '../../../protocol/kmip/kmip-message-fields';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

jest.setTimeout(120_000);

/** Small, so that the shared budget is reached in a few calls; each other test uses a key of its own and stays below it. */
const GCM_LIMIT = 6;

type Params = { mode?: string; padding?: string; tagLength?: number; randomIv?: boolean; algorithm?: string };

function parameters(p: Params): TtlvNode {
  return structureItem('CryptographicParameters', [
    p.mode === undefined ? undefined : enumItem('BlockCipherMode', p.mode),
    p.padding === undefined ? undefined : enumItem('PaddingMethod', p.padding),
    p.algorithm === undefined ? undefined : enumItem('CryptographicAlgorithm', p.algorithm),
    p.randomIv === undefined ? undefined : booleanItem('RandomIV', p.randomIv),
    p.tagLength === undefined ? undefined : integerItem('TagLength', p.tagLength),
  ]);
}

interface CipherFields {
  readonly params?: Params;
  readonly data: Buffer;
  readonly iv?: Buffer;
  readonly aad?: Buffer;
  readonly tag?: Buffer;
  readonly extra?: TtlvNode[];
}

function cipherPayload(uid: string, f: CipherFields): TtlvNode {
  return structureItem('RequestPayload', [
    textItem('UniqueIdentifier', uid),
    f.params === undefined ? undefined : parameters(f.params),
    bytesItem('Data', f.data),
    f.iv === undefined ? undefined : bytesItem('IVCounterNonce', f.iv),
    f.aad === undefined ? undefined : bytesItem('AuthenticatedEncryptionAdditionalData', f.aad),
    f.tag === undefined ? undefined : bytesItem('AuthenticatedEncryptionTag', f.tag),
    ...(f.extra ?? []),
  ]);
}

/** A response payload field's value by tag name. */
function field(item: ResponseBatchItem, name: string): unknown {
  const children = (item.responsePayload?.value ?? []) as TtlvNode[];
  return children.find((child) => child.tag === tagNumberOf(name))?.value;
}
const bytesOf = (item: ResponseBatchItem, name: string): Buffer | undefined => {
  const value = field(item, name) as Uint8Array | undefined;
  return value === undefined ? undefined : Buffer.from(value);
};

describe('KMIP Encrypt and Decrypt', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  /** Granted encrypt and decrypt on kc/*: no get. */
  let app: KmipTlsClient;
  /** Granted encrypt, decrypt and get on kc/*: may choose IVs; its native connection fetches material for the known answers. */
  let holder: KmipTlsClient;
  let holderNative: RawConnection;
  let stranger: KmipTlsClient;

  const call = async (client: KmipTlsClient, operation: string, payload: TtlvNode): Promise<ResponseBatchItem> => (await client.call(operation, payload)).batchItems[0];

  /** A key made on the native wire; its first instance's name (the KMIP Unique Identifier). */
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

  beforeAll(async () => {
    t = await startTestAppliance({ gcm_invocation_limit: String(GCM_LIMIT) });
    const grant = async (client: string, permissions: string[]): Promise<void> => {
      const answer = await officer.request('PolicyGrant', { client, pattern: 'kc/*', permissions });
      if (answer.error?.code === 'APPROVAL_REQUIRED') expect((await t.approve(answer)).state).toBe('executed');
      else expect(answer.error).toBeUndefined();
    };
    const appCredentials = t.issue('kc-app', 'app');
    const holderCredentials = t.issue('kc-holder', 'app');
    const strangerCredentials = t.issue('kc-stranger', 'app');
    // Connected only after the certificates are made: issue() blocks the event loop (key pair, signature), and under
    // load a TLS 1.3 connection whose server side had not yet read the client's Finished could outlast the server's
    // handshake timeout meanwhile and be dropped ("connection closed before a response").
    officer = await t.connect(t.officer);
    await grant('kc-app', ['encrypt', 'decrypt']);
    await grant('kc-holder', ['encrypt', 'decrypt', 'get']);
    app = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
    holder = await KmipTlsClient.open(t.server.kmipPort!, holderCredentials);
    holderNative = await t.connect(holderCredentials);
    stranger = await KmipTlsClient.open(t.server.kmipPort!, strangerCredentials);
  });

  afterAll(async () => {
    for (const client of [app, holder, stranger]) client?.destroy();
    await t?.stop();
  });

  test('AES-GCM with AAD: the server draws the IV and answers it with the tag, and node:crypto opens the result with the key material', async () => {
    const uid = await createKey('kc/gcm');
    const aad = Buffer.from('order 42');
    const item = await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM', tagLength: 16 }, data: Buffer.from('attack at dawn'), aad }));
    expect(item.resultStatus).toBe('Success');
    expect(field(item, 'UniqueIdentifier')).toBe(uid);
    const iv = bytesOf(item, 'IVCounterNonce') as Buffer;
    const tag = bytesOf(item, 'AuthenticatedEncryptionTag') as Buffer;
    expect(iv).toHaveLength(12);
    expect(tag).toHaveLength(16);
    const decipher = createDecipheriv('aes-256-gcm', await materialOf(uid), iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(bytesOf(item, 'Data') as Buffer), decipher.final()]);
    expect(plain.toString()).toBe('attack at dawn');
  });

  test('AES-GCM the other way: what node:crypto seals under the key material, KMIP Decrypt opens; a wrong tag or AAD is Cryptographic Failure', async () => {
    const uid = await createKey('kc/gcm-in');
    const iv = randomBytes(12);
    const aad = Buffer.from('header');
    const cipher = createCipheriv('aes-256-gcm', await materialOf(uid), iv, { authTagLength: 12 });
    cipher.setAAD(aad);
    const data = Buffer.concat([cipher.update('from outside'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const params = { mode: 'GCM', tagLength: 12 };
    const opened = await call(app, 'Decrypt', cipherPayload(uid, { params, data, iv, aad, tag }));
    expect(opened.resultStatus).toBe('Success');
    expect(bytesOf(opened, 'Data')?.toString()).toBe('from outside');

    const badTag = Buffer.from(tag);
    badTag[0] ^= 1;
    const refusedTag = await call(app, 'Decrypt', cipherPayload(uid, { params, data, iv, aad, tag: badTag }));
    expect(refusedTag).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'CryptographicFailure' });
    expect(refusedTag.resultMessage).toMatch(/^INTEGRITY_FAILURE: /);
    const refusedAad = await call(app, 'Decrypt', cipherPayload(uid, { params, data, iv, aad: Buffer.from('other'), tag }));
    expect(refusedAad).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'CryptographicFailure' });
    const noIv = await call(app, 'Decrypt', cipherPayload(uid, { params, data, aad, tag }));
    expect(noIv).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
  });

  test('AES-CBC with PKCS5: 33 bytes pad to 48, node:crypto agrees; Decrypt without the IV is Invalid Message, bad padding Cryptographic Failure', async () => {
    const uid = await createKey('kc/cbc', { algorithm: 'AES-128' });
    const params = { mode: 'CBC', padding: 'PKCS5' };
    const plaintext = Buffer.alloc(33, 0x5a);
    const item = await call(app, 'Encrypt', cipherPayload(uid, { params, data: plaintext }));
    expect(item.resultStatus).toBe('Success');
    const iv = bytesOf(item, 'IVCounterNonce') as Buffer;
    const data = bytesOf(item, 'Data') as Buffer;
    expect(iv).toHaveLength(16);
    expect(data).toHaveLength(48);
    expect(field(item, 'AuthenticatedEncryptionTag')).toBeUndefined();
    const expected = createCipheriv('aes-128-cbc', await materialOf(uid), iv);
    expect(data.equals(Buffer.concat([expected.update(plaintext), expected.final()]))).toBe(true);

    const opened = await call(app, 'Decrypt', cipherPayload(uid, { params, data, iv }));
    expect(bytesOf(opened, 'Data')?.equals(plaintext)).toBe(true);
    expect(await call(app, 'Decrypt', cipherPayload(uid, { params, data }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
    const tampered = Buffer.from(data);
    tampered[31] ^= 0xff; // changes the last plaintext block, padding included
    expect(await call(app, 'Decrypt', cipherPayload(uid, { params, data: tampered, iv }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'CryptographicFailure' });
  });

  test('ChaCha20-Poly1305 (Block Cipher Mode AEAD) under a CHACHA20 key; node:crypto agrees; an AES key refuses it', async () => {
    const uid = await createKey('kc/chacha', { algorithm: 'CHACHA20' });
    const aad = Buffer.from('chacha aad');
    const item = await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'AEAD', tagLength: 16 }, data: Buffer.from('sunscreen'), aad }));
    expect(item.resultStatus).toBe('Success');
    const iv = bytesOf(item, 'IVCounterNonce') as Buffer;
    // The GCM type stands for both AEAD deciphers (the same calls).
    const decipher = createDecipheriv('chacha20-poly1305', await materialOf(uid), iv, { authTagLength: 16 }) as unknown as DecipherGCM;
    decipher.setAAD(aad);
    decipher.setAuthTag(bytesOf(item, 'AuthenticatedEncryptionTag') as Buffer);
    expect(Buffer.concat([decipher.update(bytesOf(item, 'Data') as Buffer), decipher.final()]).toString()).toBe('sunscreen');
    const aes = await createKey('kc/not-chacha');
    const refused = await call(app, 'Encrypt', cipherPayload(aes, { params: { mode: 'AEAD' }, data: Buffer.from('x') }));
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'IncompatibleCryptographicUsageMask' });
  });

  test('a client IV: refused to a client without get (it would decrypt), taken from one with it, and the NIST answer results', async () => {
    const uid = await createKey('kc/chosen-iv', { algorithm: 'AES-128' });
    const iv = Buffer.from('cafebabefacedbaddecaf888', 'hex');
    const plaintext = Buffer.from('d9313225f88406e5a55909c5aff5269a', 'hex');
    const params = { mode: 'GCM' };
    const refused = await call(app, 'Encrypt', cipherPayload(uid, { params, data: plaintext, iv }));
    expect(refused).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(refused.resultMessage).toMatch(/choose the IV/);
    const item = await call(holder, 'Encrypt', cipherPayload(uid, { params, data: plaintext, iv }));
    expect(item.resultStatus).toBe('Success');
    expect(field(item, 'IVCounterNonce')).toBeUndefined(); // KMIP answers the IV only when the server chose it
    const expected = createCipheriv('aes-128-gcm', await materialOf(uid), iv);
    expect(bytesOf(item, 'Data')?.equals(Buffer.concat([expected.update(plaintext), expected.final()]))).toBe(true);
    expect(bytesOf(item, 'AuthenticatedEncryptionTag')?.equals(expected.getAuthTag())).toBe(true);
    const both = await call(holder, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM', randomIv: true }, data: plaintext, iv }));
    expect(both).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidField' });
  });

  test('a Deactivated instance decrypts but does not encrypt; no grant and a usage mask without encrypt are refused', async () => {
    const uid = await createKey('kc/retired');
    const sealed = await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'CBC', padding: 'PKCS5' }, data: Buffer.from('old') }));
    expect((await officer.request('Revoke', { instance: uid, reason: 'superseded' })).error).toBeUndefined();
    const params = { mode: 'CBC', padding: 'PKCS5' };
    expect(await call(app, 'Encrypt', cipherPayload(uid, { params, data: Buffer.from('new') }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'WrongKeyLifecycleState' });
    const opened = await call(app, 'Decrypt', cipherPayload(uid, { params, data: bytesOf(sealed, 'Data') as Buffer, iv: bytesOf(sealed, 'IVCounterNonce') }));
    expect(bytesOf(opened, 'Data')?.toString()).toBe('old');

    const live = await createKey('kc/live');
    expect(await call(stranger, 'Encrypt', cipherPayload(live, { data: Buffer.from('x') }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    const decryptOnly = await createKey('kc/decrypt-only', { usage: ['decrypt'] });
    expect(await call(app, 'Encrypt', cipherPayload(decryptOnly, { params: { mode: 'GCM' }, data: Buffer.from('x') }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'IncompatibleCryptographicUsageMask' });
  });

  test('one GCM invocation budget per instance across both wires: native envelope and raw, and KMIP, until Usage Limit Exceeded', async () => {
    const uid = await createKey('kc/budget');
    const native = await t.connect(t.issue('kc-native', 'app'));
    expect((await officer.request('PolicyGrant', { client: 'kc-native', pattern: 'kc/budget', permissions: ['encrypt'] })).error).toBeUndefined();
    const plaintext = Buffer.from('count me').toString('base64');
    expect((await native.request('Encrypt', { name: 'kc/budget', plaintext })).error).toBeUndefined();
    expect((await native.request('Encrypt', { instance: uid, plaintext, mode: 'AES-GCM' })).error).toBeUndefined();
    // CBC is not a GCM invocation: it does not count.
    expect((await native.request('Encrypt', { instance: uid, plaintext, mode: 'AES-CBC-PKCS5' })).error).toBeUndefined();
    for (let i = 0; i < GCM_LIMIT - 2; i++) {
      expect((await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM' }, data: Buffer.from('count me') }))).resultStatus).toBe('Success');
    }
    expect(await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM' }, data: Buffer.from('one more') }))).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'UsageLimitExceeded' });
    expect((await native.request('Encrypt', { name: 'kc/budget', plaintext })).error?.code).toBe('INVOCATION_LIMIT_REACHED');
    native.destroy();
  });

  test('the native wire\'s raw mode and KMIP meet: sealed natively with AES-GCM, opened over KMIP', async () => {
    const uid = await createKey('kc/cross');
    const aad = Buffer.from('cross');
    const sealed = await holderNative.request('Encrypt', { instance: uid, plaintext: Buffer.from('both wires').toString('base64'), mode: 'AES-GCM', aad: aad.toString('base64'), tagLength: 14 });
    expect(sealed.error).toBeUndefined();
    const result = sealed.result as { ciphertext: string; iv: string; tag: string; instance: string; key: string };
    expect(result).toMatchObject({ instance: uid, key: 'kc/cross' });
    const b64 = (text: string): Buffer => Buffer.from(text, 'base64');
    const opened = await call(app, 'Decrypt', cipherPayload(uid, { params: { mode: 'GCM', tagLength: 14 }, data: b64(result.ciphertext), iv: b64(result.iv), aad, tag: b64(result.tag) }));
    expect(bytesOf(opened, 'Data')?.toString()).toBe('both wires');
    const noMode = await holderNative.request('Encrypt', { name: 'kc/cross', plaintext: 'eA==', iv: result.iv });
    expect(noMode.error?.code).toBe('INVALID_ARGUMENT');
  });

  test('what is not served is refused precisely: ECB without get, ChaCha20 on an AES key, streaming, and fields this server does not read', async () => {
    const uid = await createKey('kc/refusals');
    const data = Buffer.alloc(16);
    const ecb = await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'ECB' }, data }));
    expect(ecb).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'PermissionDenied' });
    expect(ecb.resultMessage).toMatch(/^PERMISSION_DENIED: .*ECB.*get permission/);
    expect(await call(app, 'Encrypt', cipherPayload(uid, { params: { algorithm: 'ChaCha20' }, data }))).toMatchObject({ resultReason: 'IncompatibleCryptographicUsageMask' });
    expect(await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'CTR' }, data }))).toMatchObject({ resultReason: 'FeatureNotSupported' });
    // Only AES-GCM encryption streams (docs/kmip.md §3.11): a streamed Decrypt would release plaintext before its tag is checked.
    const streaming = await call(app, 'Decrypt', cipherPayload(uid, { params: { mode: 'GCM' }, data, extra: [booleanItem('InitIndicator', true)] }));
    expect(streaming).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'FeatureNotSupported' });
    expect(streaming.resultMessage).toMatch(/streaming .* plaintext before its tag is checked/);
    expect(await call(app, 'Encrypt', cipherPayload(uid, { data, extra: [integerItem('DataLength', 3)] }))).toMatchObject({ resultReason: 'InvalidField' });
    // The OASIS CS-BC cases expect General Failure for a tag length the mode does not take.
    const longTag = await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM', tagLength: 32 }, data }));
    expect(longTag).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'GeneralFailure' });
    expect(longTag.resultMessage).toMatch(/^TAG_LENGTH_REFUSED: /);
    expect(await call(app, 'Encrypt', cipherPayload(uid, { params: { mode: 'GCM', tagLength: 1 }, data }))).toMatchObject({ resultReason: 'GeneralFailure' });
  });
});
