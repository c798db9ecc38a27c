/**
 * The client's TLS (docs/protocol.md §1) against the fake server: only the
 * configured CA is trusted, the server name is checked, the client presents
 * its certificate (PEM or PKCS#12), and bad options are refused up front.
 */
import { isStrongroomClientError } from '../../client/client-error';
import { StrongroomClientOptions } from '../../client/options';
import { StrongroomClient } from '../../client/strongroom-client';
import { toPkcs12 } from '../../client/credentials';
import { FakeServer } from './fake-server';
import { makePki, TestPki } from './pki-fixture';

/** What Node reports when the server's chain does not lead to a trusted CA. */
const UNTRUSTED_CHAIN_CODES = ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE'];

let pki: TestPki;
let other: TestPki;
let server: FakeServer;
let clients: StrongroomClient[] = [];

function client(options: Partial<StrongroomClientOptions> = {}): StrongroomClient {
  const made = new StrongroomClient({ host: '127.0.0.1', port: server.port, ca: pki.ca.certificatePem, cert: pki.client.cert, key: pki.client.key, requestTimeoutMs: 5_000, ...options } as StrongroomClientOptions);
  clients.push(made);
  return made;
}

async function rejection(work: Promise<unknown>): Promise<{ code: string; details: Readonly<Record<string, unknown>> }> {
  try {
    await work;
  } catch (err) {
    if (isStrongroomClientError(err)) return { code: err.code, details: err.details };
    throw err;
  }
  return { code: 'NO_ERROR', details: {} };
}

beforeAll(() => {
  pki = makePki();
  other = makePki('Some Other CA');
});

beforeEach(async () => {
  server = await FakeServer.start(pki);
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients = [];
  await server.stop();
});

describe('TLS', () => {
  it('connects to an IP host, checking the IP SAN', async () => {
    await expect(client().query()).resolves.toMatchObject({ server: 'fake' });
  });

  it('checks the servername against the certificate when given', async () => {
    await expect(client({ servername: 'localhost' }).query()).resolves.toMatchObject({ server: 'fake' });
    const wrong = await rejection(client({ servername: 'vault.example.org' }).query());
    expect(wrong).toEqual({ code: 'UNAVAILABLE', details: { errorCode: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
  });

  it('fails with UNAVAILABLE and a TLS error code when the client trusts another CA', async () => {
    const err = await rejection(client({ ca: other.ca.certificatePem }).query());
    expect(err.code).toBe('UNAVAILABLE');
    expect(UNTRUSTED_CHAIN_CODES).toContain(err.details.errorCode);
    // The message sends the operator to the CA option, not to the network.
    await expect(client({ ca: other.ca.certificatePem }).query()).rejects.toThrow(/check the CA \(--ca/);
    expect(server.seen).toHaveLength(0);
  });

  it('is refused by the server with a client certificate from another CA', async () => {
    const err = await rejection(client({ cert: other.client.cert, key: other.client.key }).query());
    expect(err.code).toBe('UNAVAILABLE');
    expect(server.seen).toHaveLength(0);
  });

  it('presents a PKCS#12 client identity', async () => {
    const pfx = toPkcs12({ certificatePem: pki.client.cert, privateKeyPem: pki.client.key, caPem: pki.ca.certificatePem, passphrase: 'correct horse', friendlyName: 'billing-app' });
    const c = client({ cert: undefined, key: undefined, pfx, passphrase: 'correct horse' });
    await expect(c.query()).resolves.toMatchObject({ server: 'fake' });
  });
});

describe('options', () => {
  it.each<[string, Partial<StrongroomClientOptions>]>([
    ['poolSize', { poolSize: 65 }],
    ['poolSize', { poolSize: 0 }],
    ['port', { port: 70_000 }],
    ['host', { host: '' }],
    ['key', { key: undefined }],
    ['requestTimeoutMs', { requestTimeoutMs: -1 }],
    ['cache.holdMs', { cache: { leaseMs: 10, holdMs: 5 } }],
  ])('refuses a bad %s with INVALID_ARGUMENT', (field, bad) => {
    const make = () => new StrongroomClient({ host: '127.0.0.1', port: 5700, ca: pki.ca.certificatePem, cert: pki.client.cert, key: pki.client.key, ...bad } as StrongroomClientOptions);
    expect(make).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field } }));
  });
});

describe('credentials checked when the client is made', () => {
  it('refuses a private key that is not the certificate\'s with INVALID_ARGUMENT naming the key, before any connection', () => {
    let caught: unknown = null;
    try {
      new StrongroomClient({ host: '127.0.0.1', port: 1, ca: pki.ca.certificatePem, cert: pki.client.cert, key: other.client.key });
    } catch (err) {
      caught = err;
    }
    expect(isStrongroomClientError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'key' } });
  });
});
