/**
 * Streamed AES-GCM encryption (domain/gcm-streams.ts) on a real appliance
 * (SoftHSM2 token, SQLite keychain, mutual TLS), native wire and KMIP: the
 * parts of a stream make the one-shot encryption (Decrypt opens them as
 * one); another client presenting the correlation value is refused (native
 * STREAM_NOT_YOURS, KMIP Permission Denied) and the stream stays its
 * owner's; after the final part the value continues nothing; each part
 * needs the grant (a client whose grant went is refused mid-stream); the
 * trail records the start and the end under one label, never the value; a
 * streamed Decrypt is refused saying why.
 */
import { KmipTlsClient } from '../../scripts/kmip/kmip-tls-client';
import { ResponseBatchItem } from '../../protocol/kmip/kmip-message';
import { booleanItem, bytesItem, dateItem, enumItem, integerItem, maskItem, structureItem, textItem } from '../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../protocol/kmip/ttlv';
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { find } from '../support/ttlv-find';

jest.setTimeout(120_000);

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('streamed AES-GCM encryption', () => {
  let app: TestAppliance;
  let owner: Credentials;
  let other: Credentials;
  let kmipOwner: KmipTlsClient;
  let kmipOther: KmipTlsClient;
  /** The other client's grant on revocable/*, revoked mid-stream below. */
  let revocableGrant: string;

  beforeAll(async () => {
    app = await startTestAppliance();
    owner = app.issue('stream-owner', 'app');
    other = app.issue('stream-other', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'stream/k', algorithm: 'AES-256' })).error).toBeUndefined();
    for (const client of ['stream-owner', 'stream-other']) {
      const grant = await officer.request('PolicyGrant', { client, pattern: 'stream/*', permissions: ['create', 'encrypt', 'decrypt', 'get-attributes'] });
      expect((await app.approve(grant)).state).toBe('executed');
    }
    expect((await officer.request('Create', { name: 'revocable/k', algorithm: 'AES-256' })).error).toBeUndefined();
    const asked = await officer.request('PolicyGrant', { client: 'stream-other', pattern: 'revocable/*', permissions: ['encrypt'] });
    const given = asked.error?.code === 'APPROVAL_REQUIRED' ? (await app.approve(asked)).result : asked.result;
    revocableGrant = (given as { grant: { id: string } }).grant.id;
    officer.destroy();
    kmipOwner = await KmipTlsClient.open(app.server.kmipPort!, owner);
    kmipOther = await KmipTlsClient.open(app.server.kmipPort!, other);
  });

  afterAll(async () => {
    kmipOwner?.destroy();
    kmipOther?.destroy();
    await app?.stop();
  });

  it('native: three parts make the one-shot encryption; another client is refused and the stream stays its owner\'s; the value ends with the final part; the trail has its start and end', async () => {
    const conn = await app.connect(owner);
    const intruder = await app.connect(other);
    const aad = b64('record 7');
    const start = await conn.request('Encrypt', { name: 'stream/k', mode: 'AES-GCM', aad, plaintext: b64('first part, '), streamInit: true });
    expect(start.error).toBeUndefined();
    const started = start.result as { instance: string; ciphertext: string; iv: string; stream: string };
    expect(Buffer.from(started.stream, 'base64')).toHaveLength(16);

    const stolen = await intruder.request('Encrypt', { instance: started.instance, plaintext: b64('x'), stream: started.stream });
    expect(stolen.error?.code).toBe('STREAM_NOT_YOURS');

    const middle = await conn.request('Encrypt', { instance: started.instance, plaintext: b64('second part, '), stream: started.stream });
    expect(middle.error).toBeUndefined();
    const last = await conn.request('Encrypt', { instance: started.instance, plaintext: b64('the end'), stream: started.stream, streamFinal: true });
    expect(last.error).toBeUndefined();
    const ended = last.result as { ciphertext: string; tag: string };
    const ciphertext = Buffer.concat([started.ciphertext, (middle.result as { ciphertext: string }).ciphertext, ended.ciphertext].map((part) => Buffer.from(part, 'base64')));
    const opened = await conn.request('Decrypt', { instance: started.instance, mode: 'AES-GCM', ciphertext: ciphertext.toString('base64'), iv: started.iv, tag: ended.tag, aad });
    expect(Buffer.from((opened.result as { plaintext: string }).plaintext, 'base64').toString()).toBe('first part, second part, the end');

    expect((await conn.request('Encrypt', { instance: started.instance, plaintext: b64('more'), stream: started.stream })).error?.code).toBe('STREAM_NOT_FOUND');
    const trail = app.appliance.store.audit.readAuditRecords(1, 100_000).map((r) => JSON.parse(r.event) as { type: string; custom: Record<string, string> });
    const streamEvents = trail.filter((e) => e.type === 'gcm-stream');
    expect(streamEvents.map((e) => e.custom.action)).toEqual(['started', 'ended']);
    expect(new Set(streamEvents.map((e) => e.custom.stream)).size).toBe(1);
    expect(JSON.stringify(trail)).not.toContain(started.stream);
    conn.destroy();
    intruder.destroy();
  });

  it('native: a part is refused when the grant went mid-stream, and what only the first part may say is refused later', async () => {
    const conn = await app.connect(other);
    const start = await conn.request('Encrypt', { name: 'revocable/k', mode: 'AES-GCM', plaintext: b64('a'), streamInit: true });
    expect(start.error).toBeUndefined();
    const started = start.result as { instance: string; stream: string };
    expect((await conn.request('Encrypt', { instance: started.instance, plaintext: b64('b'), stream: started.stream, aad: b64('late') })).error?.code).toBe('INVALID_ARGUMENT');
    expect((await conn.request('Encrypt', { instance: started.instance, plaintext: b64('b'), stream: started.stream })).error).toBeUndefined();
    const officer = await app.connect(app.officer);
    const revoke = await officer.request('PolicyRevoke', { id: revocableGrant });
    if (revoke.error?.code === 'APPROVAL_REQUIRED') expect((await app.approve(revoke)).state).toBe('executed');
    else expect(revoke.error).toBeUndefined();
    officer.destroy();
    expect((await conn.request('Encrypt', { instance: started.instance, plaintext: b64('c'), stream: started.stream })).error?.code).toBe('PERMISSION_DENIED');
    conn.destroy();
  });

  const v21 = { major: 2, minor: 1 };
  const call = async (kmip: KmipTlsClient, operation: string, payload: TtlvNode[]): Promise<ResponseBatchItem> =>
    (await kmip.call(operation, structureItem('RequestPayload', payload), v21)).batchItems[0];

  it('KMIP: Init Indicator answers a Correlation Value, the Final Indicator the tag; another client presenting it is Permission Denied; a streamed Decrypt is refused saying why', async () => {
    const created = await call(kmipOwner, 'Create', [
      enumItem('ObjectType', 'SymmetricKey'),
      structureItem('Attributes', [
        enumItem('CryptographicAlgorithm', 'AES'),
        integerItem('CryptographicLength', 128),
        maskItem('CryptographicUsageMask', ['Encrypt', 'Decrypt']),
        dateItem('ActivationDate', BigInt(Math.floor(Date.now() / 1000) - 3600)),
        structureItem('Name', [textItem('NameValue', 'stream/kmip'), enumItem('NameType', 'UninterpretedTextString')]),
      ]),
    ]);
    expect(created.resultStatus).toBe('Success');
    const uid = find(created.responsePayload, 'UniqueIdentifier')!.value as string;
    const gcm = structureItem('CryptographicParameters', [enumItem('BlockCipherMode', 'GCM'), integerItem('TagLength', 16)]);
    const first = await call(kmipOwner, 'Encrypt', [textItem('UniqueIdentifier', uid), gcm, bytesItem('Data', Buffer.from('part one ')), booleanItem('InitIndicator', true)]);
    expect(first.resultStatus).toBe('Success');
    const correlation = find(first.responsePayload, 'CorrelationValue')!.value as Uint8Array;
    const iv = find(first.responsePayload, 'IVCounterNonce')!.value as Uint8Array;
    const stolen = await call(kmipOther, 'Encrypt', [textItem('UniqueIdentifier', uid), gcm, bytesItem('Data', Buffer.from('x')), bytesItem('CorrelationValue', Buffer.from(correlation))]);
    expect([stolen.resultStatus, stolen.resultReason]).toEqual(['OperationFailed', 'PermissionDenied']);
    const last = await call(kmipOwner, 'Encrypt', [textItem('UniqueIdentifier', uid), gcm, bytesItem('Data', Buffer.from('part two')), bytesItem('CorrelationValue', Buffer.from(correlation)), booleanItem('FinalIndicator', true)]);
    expect(last.resultStatus).toBe('Success');
    expect(find(last.responsePayload, 'CorrelationValue')).toBeUndefined();
    const tag = find(last.responsePayload, 'AuthenticatedEncryptionTag')!.value as Uint8Array;
    const ciphertext = Buffer.concat([find(first.responsePayload, 'Data')!.value as Uint8Array, find(last.responsePayload, 'Data')!.value as Uint8Array]);
    const opened = await call(kmipOwner, 'Decrypt', [textItem('UniqueIdentifier', uid), gcm, bytesItem('Data', ciphertext), bytesItem('IVCounterNonce', Buffer.from(iv)), bytesItem('AuthenticatedEncryptionTag', Buffer.from(tag))]);
    expect(Buffer.from(find(opened.responsePayload, 'Data')!.value as Uint8Array).toString()).toBe('part one part two');
    const streamedDecrypt = await call(kmipOwner, 'Decrypt', [textItem('UniqueIdentifier', uid), gcm, bytesItem('Data', ciphertext), bytesItem('IVCounterNonce', Buffer.from(iv)), booleanItem('InitIndicator', true)]);
    expect([streamedDecrypt.resultStatus, streamedDecrypt.resultReason]).toEqual(['OperationFailed', 'FeatureNotSupported']);
    expect(streamedDecrypt.resultMessage).toMatch(/plaintext before its tag is checked/);
  });
});
