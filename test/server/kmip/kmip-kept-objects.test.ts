/**
 * Objects the appliance keeps but never uses (docs/kmip.md §3.7), against a
 * real appliance: Opaque Objects, X.509 Certificates, RSA and EC Public and
 * Private Keys made at test time (node:crypto generateKeyPairSync; a
 * certificate the appliance's own CA issued), registered over KMIP 2.1 and
 * read back with Get (the registered encoding, and the others node:crypto
 * converts to), Get Attributes, and the native GetAttributes (algorithm,
 * facts). Refusals: a stated length that is not the key's, bytes that are
 * not what they claim, PEM for DER, DH, ReKey of a kept object, the
 * native opaqueType rules. No private key byte reaches the audit trail.
 */
import { generateKeyPairSync, KeyObject, X509Certificate } from 'node:crypto';
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { bytesItem, enumItem, integerItem, item, structureItem, textItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { enumeration, tagNumber } from '../../../protocol/kmip/dictionary';
import { RawConnection, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { field, only, V21 } from './lifecycle-support';

jest.setTimeout(90_000);

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const der = (key: KeyObject, type: string): Buffer => key.export({ format: 'der', type } as never) as Buffer;

function keyBlock(format: string, material: TtlvNode, algorithm: string, length?: number): TtlvNode {
  return structureItem('KeyBlock', [enumItem('KeyFormatType', format), structureItem('KeyValue', [material]), enumItem('CryptographicAlgorithm', algorithm), length === undefined ? undefined : integerItem('CryptographicLength', length)]);
}
const registerPayload = (objectType: string, object: TtlvNode, name?: string): TtlvNode =>
  structureItem('RequestPayload', [
    enumItem('ObjectType', objectType),
    structureItem('Attributes', name === undefined ? [] : [structureItem('Name', [textItem('NameValue', name), enumItem('NameType', 'UninterpretedTextString')])]),
    object,
  ]);
/** An enumeration's value by name (the answers carry numbers). */
const E = (enumerationName: string, name: string): number | undefined => enumeration(enumerationName)?.byName.get(name);
const uid = (payload: TtlvNode | undefined): string => field(payload, 'UniqueIdentifier') as string;
const child = (node: TtlvNode | undefined, name: string): TtlvNode | undefined => (node?.value as TtlvNode[] | undefined)?.find((c) => c.tag === tagNumber(name));
const path = (node: TtlvNode | undefined, ...names: string[]): TtlvNode | undefined => names.reduce((at, name) => child(at, name), node);

describe('objects the appliance keeps (KMIP 2.1)', () => {
  let t: TestAppliance;
  let client: KmipTlsClient;
  let native: RawConnection;
  let appCredentials: ReturnType<TestAppliance['issue']>;

  beforeAll(async () => {
    t = await startTestAppliance();
    native = await t.connect(t.officer);
    appCredentials = t.issue('kept-app', 'app');
    // A grant of material (get) is dual-controlled: two more officers approve it.
    const granted = await native.request('PolicyGrant', { client: 'kept-app', pattern: 'kept/*', permissions: ['register', 'create', 'get', 'get-attributes', 'rekey', 'locate'] });
    expect((await t.approve(granted)).state).toBe('executed');
    client = await KmipTlsClient.open(t.server.kmipPort!, appCredentials);
  });

  afterAll(async () => {
    client?.destroy();
    native?.destroy();
    await t?.stop();
  });

  async function register(objectType: string, object: TtlvNode, name: string): Promise<string> {
    const answer = only((await client.call('Register', registerPayload(objectType, object, name), V21)).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'Success' });
    return uid(answer.responsePayload);
  }

  async function get(id: string, format?: string): Promise<TtlvNode | undefined> {
    const payload = structureItem('RequestPayload', [textItem('UniqueIdentifier', id), format === undefined ? undefined : enumItem('KeyFormatType', format)]);
    const answer = only((await client.call('Get', payload, V21)).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'Success' });
    return answer.responsePayload;
  }

  async function attributesOf(id: string, ...names: string[]): Promise<TtlvNode | undefined> {
    const payload = structureItem('RequestPayload', [textItem('UniqueIdentifier', id), ...names.map((name) => enumItem('AttributeReference', name, 'Tag'))]);
    const answer = only((await client.call('GetAttributes', payload, V21)).batchItems);
    expect(answer).toMatchObject({ resultStatus: 'Success' });
    return child(answer.responsePayload, 'Attributes');
  }

  test('an Opaque Object keeps its Opaque Data Type and bytes; natively it is an OPAQUE key whose facts name the type', async () => {
    const bytes = Buffer.from('a blob the appliance never reads');
    const id = await register('OpaqueObject', structureItem('OpaqueObject', [item('OpaqueDataType', 'Enumeration', 0x80123456), bytesItem('OpaqueDataValue', bytes)]), 'kept/blob');
    const got = await get(id);
    expect(field(got, 'ObjectType')).toBe(E('ObjectType', 'OpaqueObject'));
    expect(path(got, 'OpaqueObject', 'OpaqueDataType')?.value).toBe(0x80123456);
    expect(Buffer.from(path(got, 'OpaqueObject', 'OpaqueDataValue')?.value as Uint8Array)).toEqual(bytes);
    const described = await native.request('GetAttributes', { instance: id });
    expect((described.result as { key: Record<string, unknown> }).key).toMatchObject({ algorithm: 'OPAQUE', facts: { encoding: 'opaque', opaqueType: 0x80123456 } });
  });

  test('a Certificate is kept as DER; Get answers it, Get Attributes its type, length, subject, issuer and key', async () => {
    const pem = t.issue('kept-subject', 'app').certificatePem;
    const certificate = new X509Certificate(pem);
    const id = await register('Certificate', structureItem('Certificate', [enumItem('CertificateType', 'X_509'), bytesItem('CertificateValue', certificate.raw)]), 'kept/certificate');
    expect(Buffer.from(path(await get(id), 'Certificate', 'CertificateValue')?.value as Uint8Array)).toEqual(certificate.raw);
    const attributes = await attributesOf(id, 'ObjectType', 'CertificateLength', 'CertificateSubjectCN', 'CryptographicAlgorithm', 'CertificateType');
    expect(child(attributes, 'CertificateLength')?.value).toBe(certificate.raw.length);
    expect(child(attributes, 'CertificateSubjectCN')?.value).toBe('kept-subject');
    expect(child(attributes, 'CryptographicAlgorithm')?.value).toBe(E('CryptographicAlgorithm', 'RSA')); // the certified key's
    expect(child(attributes, 'CertificateType')?.value).toBe(E('CertificateType', 'X_509'));
    const modify = structureItem('RequestPayload', [textItem('UniqueIdentifier', id), structureItem('NewAttribute', [integerItem('CertificateLength', 1)])]);
    expect(only((await client.call('ModifyAttribute', modify, V21)).batchItems)).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'AttributeReadOnly' });
  });

  test('an RSA Public Key registered as PKCS#1 comes back as registered, as X.509 and Transparent on request, with its algorithm and length', async () => {
    const pkcs1 = der(rsa.publicKey, 'pkcs1');
    const id = await register('PublicKey', structureItem('PublicKey', [keyBlock('PKCS_1', bytesItem('KeyMaterial', pkcs1), 'RSA', 2048)]), 'kept/rsa-public');
    expect(Buffer.from(path(await get(id), 'PublicKey', 'KeyBlock', 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(pkcs1);
    expect(Buffer.from(path(await get(id, 'X_509'), 'PublicKey', 'KeyBlock', 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(der(rsa.publicKey, 'spki'));
    const modulus = path(await get(id, 'TransparentRSAPublicKey'), 'PublicKey', 'KeyBlock', 'KeyValue', 'KeyMaterial', 'Modulus')?.value as bigint;
    expect(modulus).toBe(BigInt(`0x${Buffer.from(rsa.publicKey.export({ format: 'jwk' }).n as string, 'base64url').toString('hex')}`));
    const attributes = await attributesOf(id, 'ObjectType', 'CryptographicAlgorithm', 'CryptographicLength', 'State');
    expect([child(attributes, 'ObjectType')?.value, child(attributes, 'CryptographicAlgorithm')?.value, child(attributes, 'CryptographicLength')?.value]).toEqual([E('ObjectType', 'PublicKey'), E('CryptographicAlgorithm', 'RSA'), 2048]);
  });

  test('an EC Private Key (PKCS#8) and a Transparent RSA Private Key are kept sealed and come back in their encodings', async () => {
    const pkcs8 = der(ec.privateKey, 'pkcs8');
    const ecId = await register('PrivateKey', structureItem('PrivateKey', [keyBlock('PKCS_8', bytesItem('KeyMaterial', pkcs8), 'EC', 256)]), 'kept/ec-private');
    expect(Buffer.from(path(await get(ecId), 'PrivateKey', 'KeyBlock', 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(pkcs8);
    expect(Buffer.from(path(await get(ecId, 'ECPrivateKey'), 'PrivateKey', 'KeyBlock', 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(der(ec.privateKey, 'sec1'));
    const ecAttributes = await attributesOf(ecId, 'CryptographicAlgorithm', 'CryptographicLength');
    expect([child(ecAttributes, 'CryptographicAlgorithm')?.value, child(ecAttributes, 'CryptographicLength')?.value]).toEqual([E('CryptographicAlgorithm', 'EC'), 256]);

    const jwk = rsa.privateKey.export({ format: 'jwk' }) as Record<string, string>;
    const big = (member: string): bigint => BigInt(`0x${Buffer.from(jwk[member], 'base64url').toString('hex')}`);
    const transparent = structureItem('KeyMaterial', [
      ['Modulus', 'n'], ['PublicExponent', 'e'], ['PrivateExponent', 'd'], ['P', 'p'], ['Q', 'q'], ['PrimeExponentP', 'dp'], ['PrimeExponentQ', 'dq'], ['CRTCoefficient', 'qi'],
    ].map(([tag, member]) => item(tag, 'BigInteger', big(member))));
    const rsaId = await register('PrivateKey', structureItem('PrivateKey', [keyBlock('TransparentRSAPrivateKey', transparent, 'RSA', 2048)]), 'kept/rsa-private');
    expect(Buffer.from(path(await get(rsaId), 'PrivateKey', 'KeyBlock', 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(der(rsa.privateKey, 'pkcs1'));
    expect(Buffer.from(path(await get(rsaId, 'PKCS_8'), 'PrivateKey', 'KeyBlock', 'KeyValue', 'KeyMaterial')?.value as Uint8Array)).toEqual(der(rsa.privateKey, 'pkcs8'));

    // Nothing of either private key is in the trail: every event of the client, searched for the keys' bytes in hex and base64.
    const auditor = await t.connect(t.issue('kept-auditor', 'auditor'));
    const found = JSON.stringify((await auditor.request('AuditSearch', { identity: 'kept-app', limit: 1000 })).result);
    expect(found).toContain('kept/rsa-private');
    for (const secret of [pkcs8, der(rsa.privateKey, 'pkcs1'), der(ec.privateKey, 'sec1')]) {
      for (const text of [secret.toString('hex'), secret.toString('base64'), secret.subarray(40, 72).toString('hex'), secret.subarray(40, 72).toString('base64')]) expect(found).not.toContain(text);
    }
    for (const member of ['d', 'p', 'q']) expect(found).not.toContain(jwk[member].slice(8, 40));
    auditor.destroy();
  });

  test('refused, naming the field: a stated length that is not the key\'s, bytes that are not the key they claim, a PEM certificate, DH, and an unknown format', async () => {
    const refusals: Array<[string, TtlvNode, string, RegExp]> = [
      ['PublicKey', structureItem('PublicKey', [keyBlock('PKCS_1', bytesItem('KeyMaterial', der(rsa.publicKey, 'pkcs1')), 'RSA', 4096)]), 'InvalidField', /Cryptographic Length 4096 is not the key's \(2048 bits\)/],
      ['PublicKey', structureItem('PublicKey', [keyBlock('PKCS_1', bytesItem('KeyMaterial', Buffer.from('not a key at all')), 'RSA')]), 'InvalidField', /INVALID_ARGUMENT: the material is not RSA-PUBLIC/],
      ['PublicKey', structureItem('PublicKey', [keyBlock('X_509', bytesItem('KeyMaterial', der(ec.publicKey, 'spki')), 'RSA')]), 'InvalidField', /is a ec key, not RSA-PUBLIC/],
      ['Certificate', structureItem('Certificate', [enumItem('CertificateType', 'X_509'), bytesItem('CertificateValue', Buffer.from(t.issue('kept-pem', 'app').certificatePem))]), 'InvalidField', /DER, not PEM/],
      ['PublicKey', structureItem('PublicKey', [keyBlock('X_509', bytesItem('KeyMaterial', Buffer.alloc(8)), 'DH')]), 'FeatureNotSupported', /DH; public and private keys are kept for RSA, EC and DSA/],
      ['PrivateKey', structureItem('PrivateKey', [keyBlock('Raw', bytesItem('KeyMaterial', Buffer.alloc(8)), 'RSA')]), 'KeyFormatTypeNotSupported', /Raw is not accepted/],
    ];
    for (const [index, [objectType, object, reason, message]] of refusals.entries()) {
      const answer = only((await client.call('Register', registerPayload(objectType, object, `kept/refused-${index}`), V21)).batchItems);
      expect(answer).toMatchObject({ resultStatus: 'OperationFailed', resultReason: reason });
      expect(answer.resultMessage).toMatch(message);
    }
    const located = await native.request('Locate', { pattern: 'kept/refused-*' });
    expect((located.result as { keys: unknown[] }).keys).toEqual([]);
  });

  test('natively: a kept object is not rolled over, OPAQUE needs its opaqueType and nothing else takes one', async () => {
    const app = await t.connect(appCredentials);
    const made = await app.request('Register', { name: 'kept/native-blob', algorithm: 'OPAQUE', opaqueType: 2147483649, material: Buffer.from('blob').toString('base64') });
    expect(made.error).toBeUndefined();
    expect((await app.request('ReKey', { name: 'kept/native-blob', material: Buffer.from('other').toString('base64') })).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await app.request('Register', { name: 'kept/no-type', algorithm: 'OPAQUE', material: Buffer.from('blob').toString('base64') })).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await app.request('Register', { name: 'kept/typed-secret', algorithm: 'SECRET', opaqueType: 1, material: Buffer.from('pw').toString('base64') })).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await app.request('Create', { name: 'kept/made-key', algorithm: 'RSA-PRIVATE' })).error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    app.destroy();
  });
});
