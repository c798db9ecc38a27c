/**
 * The appliance PKI over real TLS sockets (docs/protocol.md §1): a server
 * certificate and client certificates from one CA give a mutually
 * authenticated connection; clients from elsewhere, expired or not yet valid
 * ones, and old protocol versions are refused.
 *
 * How a refusal shows on the server side (Node 20): with `rejectUnauthorized:
 * true`, Node checks the client certificate after OpenSSL's handshake and
 * destroys the socket, so the server emits NO 'secureConnection' and the
 * client receives nothing ("ok" is never sent); only a missing certificate or
 * a protocol mismatch is aborted by OpenSSL itself ('tlsClientError'). With
 * `rejectUnauthorized: false` the same connections reach 'secureConnection'
 * with `authorized === false` and the reason in `authorizationError`.
 */
import tls from 'node:tls';
import { ManualClock, systemClock } from '../../common/clock';
import { createCa } from '../../domain/pki/ca';
import { fingerprintOfDer } from '../../domain/pki/certificate-info';
import { issueClientCertificate, issueServerCertificate, IssuedClientCertificate } from '../../domain/pki/issue';
import { generateClientKeyPair } from '../../client/credentials';
import { CaMaterial } from '../../domain/pki/x509-builder';
import { connectClient, startServer, TestServer } from './tls-fixture';

const DAY_MS = 24 * 60 * 60 * 1000;

interface ClientCredentials extends IssuedClientCertificate {
  readonly key: string;
}

let ca: CaMaterial;
let otherCa: CaMaterial;
let server: { certificatePem: string; privateKeyPem: string };
let good: ClientCredentials;
let servers: TestServer[] = [];

function client(issuer: CaMaterial, name: string, clock = systemClock as { nowMs(): number }): ClientCredentials {
  const keys = generateClientKeyPair();
  const issued = issueClientCertificate({ ca: issuer, name, role: 'app', groups: ['payments'], publicKeyPem: keys.publicKeyPem, validityDays: 1, clock });
  return { ...issued, key: keys.privateKeyPem };
}

async function listen(options: tls.TlsOptions = {}): Promise<TestServer> {
  const started = await startServer({
    key: server.privateKeyPem,
    cert: server.certificatePem,
    ca: ca.certificatePem,
    requestCert: true,
    rejectUnauthorized: true,
    ...options,
  });
  servers.push(started);
  return started;
}

beforeAll(() => {
  // The CA starts 30 days in the past so that it is valid when issuing the past and future client certificates below.
  const caClock = new ManualClock(Date.now() - 30 * DAY_MS);
  ca = createCa({ commonName: 'Strongroom Test CA', validityDays: 3650, clock: caClock });
  otherCa = createCa({ commonName: 'Some Other CA', validityDays: 3650, clock: caClock });
  server = issueServerCertificate({
    ca,
    commonName: 'localhost',
    sans: [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }],
    validityDays: 30,
    clock: systemClock,
  });
  good = client(ca, 'billing-app');
});

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

describe('mutual TLS with certificates from the appliance CA', () => {
  it('authenticates both sides; the peer fingerprint equals the issued fingerprint256 and the CN is the client name', async () => {
    const srv = await listen();
    const result = await connectClient(srv.port, { servername: 'localhost', ca: ca.certificatePem, cert: good.certificatePem, key: good.key });
    expect(result).toMatchObject({ secureConnect: true, received: 'ok', errorCode: null });
    expect(srv.seen.secure).toHaveLength(1);
    const seen = srv.seen.secure[0];
    expect(seen.authorized).toBe(true);
    expect(seen.peerCn).toBe('billing-app');
    expect(fingerprintOfDer(seen.peerRaw as Buffer)).toBe(good.fingerprint256);
  });

  it('lets the client verify the server by its IP SAN (no servername, default checkServerIdentity)', async () => {
    const srv = await listen();
    const result = await connectClient(srv.port, { ca: ca.certificatePem, cert: good.certificatePem, key: good.key });
    expect(result).toMatchObject({ secureConnect: true, received: 'ok', errorCode: null });
  });

  it('makes the client refuse a server whose SANs do not cover the name it asked for', async () => {
    const srv = await listen();
    const result = await connectClient(srv.port, { servername: 'elsewhere.example', ca: ca.certificatePem, cert: good.certificatePem, key: good.key });
    expect(result.errorCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(result.received).toBe('');
  });

  it('negotiates TLS 1.3 when both sides allow it', async () => {
    const srv = await listen({ minVersion: 'TLSv1.2' });
    const result = await connectClient(srv.port, { servername: 'localhost', ca: ca.certificatePem, cert: good.certificatePem, key: good.key });
    expect(result.protocol).toBe('TLSv1.3');
    expect(srv.seen.secure[0].protocol).toBe('TLSv1.3');
  });

  it('refuses a client limited to TLS 1.1 at a server with minVersion TLSv1.2 (handshake error on both sides)', async () => {
    const srv = await listen({ minVersion: 'TLSv1.2' });
    const result = await connectClient(srv.port, {
      servername: 'localhost',
      ca: ca.certificatePem,
      cert: good.certificatePem,
      key: good.key,
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      // Without this OpenSSL 3 will not even offer TLS 1.1 (its ciphers need SHA-1): we want the SERVER to refuse.
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    expect(result.secureConnect).toBe(false);
    expect(result.errorCode).not.toBeNull();
    expect(srv.seen.secure).toHaveLength(0);
    expect(srv.seen.clientErrors.map((e) => e.code)).toEqual(['ERR_SSL_UNSUPPORTED_PROTOCOL']);
  });
});

describe('refused client certificates', () => {
  it('refuses a client without a certificate: OpenSSL aborts the handshake (tlsClientError), no secureConnection', async () => {
    const srv = await listen();
    const result = await connectClient(srv.port, { servername: 'localhost', ca: ca.certificatePem });
    expect(result.received).toBe('');
    expect(srv.seen.secure).toHaveLength(0);
    expect(srv.seen.clientErrors).toHaveLength(1);
    expect(srv.seen.clientErrors[0].code).toBe('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  });

  const refusals: Array<{ title: string; make: () => ClientCredentials; reason: string }> = [
    { title: 'a certificate from another CA', make: () => client(otherCa, 'intruder'), reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    {
      title: 'an expired certificate (issued 10 days ago for 1 day)',
      make: () => client(ca, 'expired-app', new ManualClock(Date.now() - 10 * DAY_MS)),
      reason: 'CERT_HAS_EXPIRED',
    },
    {
      title: 'a not-yet-valid certificate (issued 10 days in the future)',
      make: () => client(ca, 'future-app', new ManualClock(Date.now() + 10 * DAY_MS)),
      reason: 'CERT_NOT_YET_VALID',
    },
  ];

  for (const { title, make, reason } of refusals) {
    it(`refuses ${title}: rejectUnauthorized true -> no secureConnection and nothing sent`, async () => {
      const credentials = make();
      const srv = await listen();
      const result = await connectClient(srv.port, { servername: 'localhost', ca: ca.certificatePem, cert: credentials.certificatePem, key: credentials.key });
      expect(result.received).toBe('');
      expect(srv.seen.secure).toHaveLength(0);
    });

    it(`sees ${title} as authorized === false with ${reason} when rejectUnauthorized is false`, async () => {
      const credentials = make();
      const srv = await listen({ rejectUnauthorized: false });
      await connectClient(srv.port, { servername: 'localhost', ca: ca.certificatePem, cert: credentials.certificatePem, key: credentials.key });
      expect(srv.seen.secure).toHaveLength(1);
      expect(srv.seen.secure[0]).toMatchObject({ authorized: false, authorizationError: reason });
    });
  }
});
