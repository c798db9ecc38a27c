/**
 * The KMIP listener against a real appliance (SoftHSM2 token, SQLite
 * keychain, mutual TLS with certificates made now): version discovery and
 * Query through the one dispatcher, an unserved operation, a malformed
 * message answered without losing the connection, a length that cannot be
 * trusted answered and closed, a peer without an appliance certificate
 * refused, and the audit trail naming the KMIP requests.
 */
import { KmipTlsClient } from '../../../scripts/kmip/kmip-tls-client';
import { enumeration } from '../../../protocol/kmip/dictionary';
import { encodeRequest } from '../../../protocol/kmip/kmip-message-encoder';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { enumItem, integerItem, structureItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';

jest.setTimeout(60_000);

const emptyPayload: TtlvNode = structureItem('RequestPayload', []);

describe('the KMIP listener', () => {
  let t: TestAppliance;
  let client: KmipTlsClient;

  beforeAll(async () => {
    t = await startTestAppliance();
    expect(t.server.kmipPort).toEqual(expect.any(Number));
    client = await KmipTlsClient.open(t.server.kmipPort!, t.issue('kmip-app', 'app'));
  });

  afterAll(async () => {
    client?.destroy();
    await t?.stop();
  });

  test('Discover Versions lists what the server speaks, newest first, in the version asked', async () => {
    const all = await client.call('DiscoverVersions', emptyPayload, { major: 1, minor: 2 });
    expect(all.header.protocolVersion).toEqual({ major: 1, minor: 2 });
    const item = all.batchItems[0];
    expect(item.resultStatus).toBe('Success');
    const versions = (item.responsePayload!.value as TtlvNode[]).map((v) => (v.value as TtlvNode[]).map((n) => n.value).join('.'));
    expect(versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);

    const version = (major: number, minor: number): TtlvNode => structureItem('ProtocolVersion', [integerItem('ProtocolVersionMajor', major), integerItem('ProtocolVersionMinor', minor)]);
    const some = await client.call('DiscoverVersions', structureItem('RequestPayload', [version(3, 0), version(1, 4), version(1, 0)]));
    const offered = (some.batchItems[0].responsePayload!.value as TtlvNode[]).map((v) => (v.value as TtlvNode[]).map((n) => n.value).join('.'));
    expect(offered).toEqual(['1.4', '1.0']);
  });

  test('Query lists the operations served', async () => {
    const answer = await client.call('Query', structureItem('RequestPayload', [enumItem('QueryFunction', 'QueryOperations'), enumItem('QueryFunction', 'QueryServerInformation')]));
    const item = answer.batchItems[0];
    expect(item.resultStatus).toBe('Success');
    const operations = (item.responsePayload!.value as TtlvNode[])
      .filter((n) => n.type === 'Enumeration')
      .map((n) => enumeration('Operation')!.byValue.get(n.value as number));
    expect(operations).toEqual(expect.arrayContaining(['DiscoverVersions', 'Query']));
  });

  test('an operation the server does not serve answers Operation Not Supported, and the connection serves on', async () => {
    const answer = await client.call('Certify', emptyPayload);
    expect(answer.batchItems[0]).toMatchObject({ operation: 'Certify', resultStatus: 'OperationFailed', resultReason: 'OperationNotSupported' });
    expect((await client.call('DiscoverVersions', emptyPayload)).batchItems[0].resultStatus).toBe('Success');
  });

  test('a malformed message answers Invalid Message and the connection stays in step', async () => {
    const good = encodeTtlv(encodeRequest({ header: { protocolVersion: { major: 1, minor: 4 }, clientCorrelationValue: 'corr~', batchCount: 1 }, batchItems: [{ operation: 'DiscoverVersions', requestPayload: emptyPayload }] }));
    const bad = Buffer.from(good);
    bad[bad.indexOf('corr~') + 5] = 0xff; // a padding byte after the five-character text that is not zero
    client.sendBytes(bad);
    const refused = await client.next();
    expect(refused.batchItems[0]).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
    expect(refused.batchItems[0].resultMessage).toMatch(/padding/i);
    client.sendBytes(good);
    expect((await client.next()).batchItems[0].resultStatus).toBe('Success');
  });

  test('a message longer than the limit is answered Invalid Message and the connection closed, before its bytes are read', async () => {
    const other = await KmipTlsClient.open(t.server.kmipPort!, t.issue('kmip-big', 'app'));
    const header = Buffer.from([0x42, 0x00, 0x78, 0x01, 0x7f, 0xff, 0xff, 0xf8]);
    other.sendBytes(header);
    const refused = await other.next();
    expect(refused.batchItems[0]).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
    await expect(other.nextBytes()).rejects.toThrow(/closed/);
  });

  test('a peer whose certificate is not the appliance CA\'s gets no answer and is closed', async () => {
    // The handshake completes (so the refusal can be audited with what the peer showed), then the connection is closed unanswered.
    const stranger = await KmipTlsClient.open(t.server.kmipPort!, null, { caPem: t.officer.caPem });
    stranger.sendBytes(encodeTtlv(encodeRequest({ header: { protocolVersion: { major: 2, minor: 1 }, batchCount: 1 }, batchItems: [{ operation: 'DiscoverVersions', requestPayload: emptyPayload }] })));
    await expect(stranger.nextBytes()).rejects.toThrow(/closed/);
  });

  test('the audit trail names each KMIP request with its client, source and transport', async () => {
    const auditor = await t.connect(t.issue('kmip-auditor', 'auditor'));
    const found = await auditor.request('AuditSearch', { identity: 'kmip-app', operation: 'Query' });
    const events = (found.result as { events: Array<{ event: Record<string, unknown> }> }).events;
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0].event).toMatchObject({ identity: { name: 'kmip-app' }, operation: 'Query', result: 'ok', transport: 'kmip', source: '127.0.0.1' });
    // The native wire's events carry no transport: their canonical JSON (and hash) is what it always was.
    const native = await auditor.request('AuditSearch', { identity: 'kmip-auditor', operation: 'AuditSearch' });
    const own = (native.result as { events: Array<{ event: Record<string, unknown> }> }).events;
    expect(own.length).toBeGreaterThanOrEqual(1);
    expect(own[0].event).not.toHaveProperty('transport');
  });
});
