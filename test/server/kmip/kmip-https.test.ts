/**
 * KMIP over HTTPS (docs/kmip.md §4.1) against a real appliance (SoftHSM2
 * token, SQLite keychain, certificates made now): Query, Create and Get in
 * TTLV, JSON and XML through the one dispatcher, several requests on one
 * kept-alive connection; the HTTP refusals (404, 405, 413 declared and
 * counted, 415) with their reasons, the connection serving on where it can;
 * a body that does not decode answered Invalid Message in its own encoding;
 * an officer's Get answered Operation Pending; peers without a certificate,
 * with another CA's, or revoked refused 401 before anything is read; the
 * audit trail naming the requests as KMIP, with an HTTPS request id; a
 * client over its connection cap refused 503; kmip_https_port = off.
 */
import { X509Certificate } from 'node:crypto';
import { fingerprintOfDer } from '../../../domain/pki/certificate-info';
import { createCa } from '../../../domain/pki/ca';
import { issueClientCertificate } from '../../../domain/pki/issue';
import { generateClientKeyPair } from '../../../client/credentials';
import { systemClock } from '../../../common/clock';
import { enumeration } from '../../../protocol/kmip/dictionary';
import { decodeKmipBody, encodeKmipBody, KMIP_MAX_BODY_BYTES, KmipHttpEncoding } from '../../../protocol/kmip/kmip-http';
import { decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { enumItem, structureItem } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { KmipHttpsClient } from '../../../scripts/kmip/kmip-https-client';
import { createPayload, getPayload, gotObject, uidOf } from '../../support/kmip-key-payloads';
import { Credentials, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { callOver, rawHttps, requestOf, V14, V21 } from './kmip-https-support';

jest.setTimeout(90_000);

const ENCODINGS: readonly KmipHttpEncoding[] = ['ttlv', 'json', 'xml'];
const fingerprintOf = (pem: string): string => fingerprintOfDer(new X509Certificate(pem).raw);
const queryOperations = structureItem('RequestPayload', [enumItem('QueryFunction', 'QueryOperations')]);

describe('KMIP over HTTPS', () => {
  let t: TestAppliance;
  let app: Credentials;
  let client: KmipHttpsClient;
  let port: number;

  beforeAll(async () => {
    t = await startTestAppliance();
    port = t.server.kmipHttpsPort!;
    expect(port).toEqual(expect.any(Number));
    expect(port).not.toBe(t.server.kmipPort);
    app = t.issue('https-app', 'app');
    const officer = await t.connect(t.officer);
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'https-app', pattern: 'https/*', permissions: ['create', 'get'] }))).state).toBe('executed');
    officer.destroy();
    client = new KmipHttpsClient(port, app);
  });

  afterAll(async () => {
    client?.close();
    await t?.stop();
  });

  test.each(ENCODINGS)('Query in %s answers in the same encoding, with the operations served', async (encoding) => {
    const answer = await callOver(client, encoding, 'Query', queryOperations);
    expect(answer.header.protocolVersion).toEqual(V21);
    const item = answer.batchItems[0];
    expect(item.resultStatus).toBe('Success');
    const operations = (item.responsePayload!.value as TtlvNode[]).map((n) => enumeration('Operation')!.byValue.get(n.value as number));
    expect(operations).toEqual(expect.arrayContaining(['Query', 'Create', 'Get', 'Locate']));
  });

  test('a key made over JSON is read over XML (1.4) and TTLV (2.1); consecutive requests share one kept-alive connection', async () => {
    const created = await callOver(client, 'json', 'Create', createPayload(V21, { algorithm: 'AES', length: 256, name: 'https/k' }));
    const uid = uidOf(created.batchItems[0]);
    const viaXml = gotObject((await callOver(client, 'xml', 'Get', getPayload(uid), V14)).batchItems[0]);
    const viaTtlv = gotObject((await callOver(client, 'ttlv', 'Get', getPayload(uid))).batchItems[0]);
    expect(viaXml).toMatchObject({ objectType: 'SymmetricKey', uid, algorithm: 'AES', length: 256 });
    expect(viaXml.material.length).toBe(32);
    expect(viaXml.material.equals(viaTtlv.material)).toBe(true);
    const sockets = new Set<number | undefined>();
    for (let i = 0; i < 3; i++) {
      const answer = await client.post(encodeKmipBody('ttlv', requestOf('Query', queryOperations)), 'ttlv');
      expect(answer.status).toBe(200);
      sockets.add(answer.localPort);
    }
    expect(sockets.size).toBe(1);
  });

  test('a wrong path is 404, a wrong method 405 (Allow: POST), another content type 415; each says why and the connection serves on', async () => {
    const query = encodeKmipBody('ttlv', requestOf('Query', queryOperations));
    const notFound = await client.post(query, 'ttlv', { path: '/other' });
    expect(notFound.status).toBe(404);
    expect(notFound.body.toString()).toMatch(/KMIP is served at POST \/kmip/);
    const wrongMethod = await client.post(Buffer.alloc(0), 'ttlv', { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(wrongMethod.body.toString()).toMatch(/answers POST only/);
    const wrongType = await client.post(query, 'ttlv', { contentType: 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.toString()).toMatch(/"text\/plain" is not a KMIP encoding served here: use one of application\/octet-stream, application\/json, text\/xml/);
    const noType = await client.post(query, 'ttlv', { contentType: null });
    expect(noType.status).toBe(415);
    const served = await client.post(query, 'ttlv');
    expect(served.status).toBe(200);
    expect(new Set([notFound.localPort, wrongMethod.localPort, wrongType.localPort, noType.localPort, served.localPort]).size).toBe(1);
    // Parameters and case do not matter; application/xml is read as XML and answered text/xml.
    const xml = await client.post(encodeKmipBody('xml', requestOf('Query', queryOperations)), 'xml', { contentType: 'Application/XML; charset=utf-8' });
    expect(xml.status).toBe(200);
    expect(xml.headers['content-type']).toBe('text/xml');
  });

  test('a body declared larger than its encoding allows is refused 413 before it is read; one that grows past it unannounced too', async () => {
    const other = new KmipHttpsClient(port, app);
    try {
      const declared = await other.post(Buffer.alloc(0), 'ttlv', { headers: { 'Content-Length': String(KMIP_MAX_BODY_BYTES.ttlv + 1) } });
      expect(declared.status).toBe(413);
      expect(declared.body.toString()).toBe(`a TTLV request message is at most ${KMIP_MAX_BODY_BYTES.ttlv} bytes; this one declares ${KMIP_MAX_BODY_BYTES.ttlv + 1}\n`);
      expect(declared.headers.connection).toBe('close');
    } finally {
      other.close();
    }
    const size = KMIP_MAX_BODY_BYTES.json + 1;
    const head = `POST /kmip HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n`;
    const answer = await rawHttps(port, app, Buffer.concat([Buffer.from(head), Buffer.alloc(size, 0x20)]));
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain(`a JSON request message is at most ${KMIP_MAX_BODY_BYTES.json} bytes`);
  });

  test.each([
    ['ttlv', Buffer.from('42007801000000ff', 'hex'), /./],
    ['json', Buffer.from('{"tag": "RequestMessage", "value": ['), /JSON/],
    ['xml', Buffer.from('<RequestMessage><RequestHeader>'), /./],
    ['json', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not well-formed UTF-8/],
  ] as Array<[KmipHttpEncoding, Buffer, RegExp]>)('a %s body that does not decode is answered Invalid Message in that encoding', async (encoding, body, why) => {
    const answer = await client.post(body, encoding);
    expect(answer.status).toBe(200);
    const response = decodeResponse(decodeKmipBody(encoding, answer.body));
    expect(response.batchItems[0]).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'InvalidMessage' });
    expect(response.batchItems[0].resultMessage).toMatch(why);
    expect((await callOver(client, encoding, 'Query', queryOperations)).batchItems[0].resultStatus).toBe('Success');
  });

  test('an officer\'s Get without a grant answers Operation Pending over HTTPS too, with the approval request as correlation value', async () => {
    const uid = uidOf((await callOver(client, 'ttlv', 'Create', createPayload(V21, { algorithm: 'AES', length: 128, name: 'https/held' }))).batchItems[0]);
    const officer = new KmipHttpsClient(port, t.officer);
    try {
      const item = (await callOver(officer, 'json', 'Get', getPayload(uid))).batchItems[0];
      expect(item.resultStatus).toBe('OperationPending');
      const requestId = Buffer.from(item.asynchronousCorrelationValue as Uint8Array).toString('utf8');
      const native = await t.connect(t.approvers[0]);
      const shown = await native.request('ApprovalGet', { id: requestId });
      expect(shown.result).toMatchObject({ request: { id: requestId, class: 'key-export', requester: 'test-officer' } });
      native.destroy();
    } finally {
      officer.close();
    }
  });

  test('no client certificate, another CA\'s, or a revoked one is refused 401 before the request is read', async () => {
    const query = encodeKmipBody('ttlv', requestOf('Query', queryOperations));
    const anonymous = new KmipHttpsClient(port, null, { caPem: app.caPem });
    const none = await anonymous.post(query, 'ttlv');
    anonymous.close();
    expect(none.status).toBe(401);
    expect(none.body.toString()).toMatch(/^UNAUTHENTICATED: this certificate was not issued by the appliance CA/);

    const otherCa = createCa({ commonName: 'Other CA', validityDays: 30, clock: systemClock });
    const pair = generateClientKeyPair();
    const foreign = issueClientCertificate({ ca: otherCa, name: 'https-app', role: 'app', groups: [], publicKeyPem: pair.publicKeyPem, validityDays: 30, clock: systemClock });
    const stranger = new KmipHttpsClient(port, { certificatePem: foreign.certificatePem, privateKeyPem: pair.privateKeyPem, caPem: app.caPem });
    const refused = await stranger.post(query, 'ttlv');
    stranger.close();
    expect(refused.status).toBe(401);

    const doomed = t.issue('https-doomed', 'app');
    const held = new KmipHttpsClient(port, doomed);
    expect((await held.post(query, 'ttlv')).status).toBe(200);
    const officer = await t.connect(t.officer);
    expect((await t.approve(await officer.request('ClientRevoke', { name: 'https-doomed' }))).state).toBe('executed');
    officer.destroy();
    // Its kept-alive connection was closed by the revocation: the next request opens a new one, which is refused.
    const after = await held.post(query, 'ttlv');
    held.close();
    expect(after.status).toBe(401);
    expect(after.body.toString()).toBe('UNAUTHENTICATED: this certificate is unknown to the appliance or revoked\n');
    // Recorded like every refused connection: a request answered after them finds their events durable.
    const later = await t.connect(t.approvers[1]);
    expect((await later.request('Query')).error).toBeUndefined();
    later.destroy();
    const refusedFingerprints = t.appliance.store.audit
      .readAuditRecords(1, 100_000)
      .map((r) => JSON.parse(r.event) as { type: string; identity: { fingerprint256: string } | null })
      .filter((e) => e.type === 'auth-failure')
      .map((e) => e.identity?.fingerprint256);
    expect(refusedFingerprints).toEqual(expect.arrayContaining([fingerprintOf(foreign.certificatePem), fingerprintOf(doomed.certificatePem)]));
  });

  test('the audit trail records HTTPS requests as KMIP, with an HTTPS request id', async () => {
    const auditor = await t.connect(t.issue('https-auditor', 'auditor'));
    const found = await auditor.request('AuditSearch', { identity: 'https-app', operation: 'Create' });
    const events = (found.result as { events: Array<{ event: Record<string, unknown> }> }).events;
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const { event } of events) {
      expect(event).toMatchObject({ identity: { name: 'https-app' }, transport: 'kmip', source: '127.0.0.1' });
      expect(String(event.requestId)).toMatch(/^kmip-https-/);
    }
    auditor.destroy();
  });
});

describe('KMIP over HTTPS: settings and caps', () => {
  test('kmip_https_port = off serves no HTTPS listener, and the TTLV port serves on', async () => {
    const t = await startTestAppliance({ kmip_https_port: 'off' });
    try {
      expect(t.server.kmipHttpsPort).toBeNull();
      expect(t.server.kmipPort).toEqual(expect.any(Number));
    } finally {
      await t.stop();
    }
  });

  test('a client over max_connections_per_client is refused 503 SERVER_BUSY before its request is read', async () => {
    const t = await startTestAppliance({ max_connections_per_client: '1' });
    const busy = t.issue('https-busy', 'app');
    const first = new KmipHttpsClient(t.server.kmipHttpsPort!, busy);
    const second = new KmipHttpsClient(t.server.kmipHttpsPort!, busy);
    try {
      const query = encodeKmipBody('ttlv', requestOf('Query', queryOperations));
      expect((await first.post(query, 'ttlv')).status).toBe(200);
      const refused = await second.post(query, 'ttlv');
      expect(refused.status).toBe(503);
      expect(refused.body.toString()).toBe('SERVER_BUSY: client "https-busy" already has 1 connections open (max_connections_per_client)\n');
      expect((await first.post(query, 'ttlv')).status).toBe(200);
    } finally {
      first.close();
      second.close();
      await t.stop();
    }
  });
});
