/**
 * A client's credentials (client/credentials.ts): its key pair, which the
 * appliance CA certifies; and the PKCS#12 export, which node:tls loads with
 * its passphrase for a real mutual-TLS handshake; a wrong passphrase, an
 * empty or non-ASCII one, and a key that is not the certificate's are refused.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import tls from 'node:tls';
import { systemClock } from '../../common/clock';
import { createCa } from '../../domain/pki/ca';
import { issueClientCertificate, issueServerCertificate } from '../../domain/pki/issue';
import { ClientKeyPair, CLIENT_KEY_BITS, generateClientKeyPair, toPkcs12 } from '../../client/credentials';
import { CaMaterial } from '../../domain/pki/x509-builder';
import { codeOf } from '../support/error-code';
import { connectClient, startServer, TestServer } from '../pki/tls-fixture';

const PASSPHRASE = 'correct horse battery staple';

let ca: CaMaterial;
let keys: ClientKeyPair;
let certificatePem: string;
let pfx: Buffer;
let srv: TestServer | undefined;

beforeAll(() => {
  ca = createCa({ commonName: 'Strongroom PKCS12 CA', validityDays: 30, clock: systemClock });
  keys = generateClientKeyPair();
  certificatePem = issueClientCertificate({ ca, name: 'p12-app', role: 'app', groups: [], publicKeyPem: keys.publicKeyPem, validityDays: 1, clock: systemClock }).certificatePem;
  pfx = toPkcs12({ certificatePem, privateKeyPem: keys.privateKeyPem, caPem: ca.certificatePem, passphrase: PASSPHRASE, friendlyName: 'p12-app' });
});

afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('generateClientKeyPair', () => {
  it('makes an RSA key pair of CLIENT_KEY_BITS: an SPKI public key and the PKCS#8 private key that belongs to it', () => {
    expect(keys.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keys.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const publicKey = createPublicKey(keys.publicKeyPem);
    expect(publicKey.asymmetricKeyType).toBe('rsa');
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(CLIENT_KEY_BITS);
    const derived = createPublicKey(createPrivateKey(keys.privateKeyPem)).export({ type: 'spki', format: 'der' });
    expect(derived.equals(publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  });
});

describe('toPkcs12', () => {
  it('produces a file node:tls accepts with the passphrase', () => {
    expect(() => tls.createSecureContext({ pfx, passphrase: PASSPHRASE })).not.toThrow();
  });

  it('is refused by node:tls with a wrong passphrase', () => {
    expect(() => tls.createSecureContext({ pfx, passphrase: 'wrong' })).toThrow();
  });

  it('carries a client identity that completes a mutual-TLS handshake', async () => {
    const server = issueServerCertificate({ ca, commonName: 'localhost', sans: [{ type: 'dns', value: 'localhost' }], validityDays: 1, clock: systemClock });
    srv = await startServer({ key: server.privateKeyPem, cert: server.certificatePem, ca: ca.certificatePem, requestCert: true, rejectUnauthorized: true });
    // The CA inside the pfx is a trust anchor for the client too, so no separate `ca` is given.
    const result = await connectClient(srv.port, { servername: 'localhost', pfx, passphrase: PASSPHRASE });
    expect(result).toMatchObject({ secureConnect: true, received: 'ok', errorCode: null });
    expect(srv.seen.secure[0]).toMatchObject({ authorized: true, peerCn: 'p12-app' });
  });

  it.each([
    ['empty', ''],
    ['non-ASCII (forge and OpenSSL would encode it differently)', 'pässwörd'],
    ['a control character', 'abc\n'],
  ])('refuses a passphrase that is %s', (_title, passphrase) => {
    expect(codeOf(() => toPkcs12({ certificatePem, privateKeyPem: keys.privateKeyPem, caPem: ca.certificatePem, passphrase, friendlyName: 'x' }))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a private key that does not belong to the certificate', () => {
    const stranger = generateClientKeyPair();
    expect(codeOf(() => toPkcs12({ certificatePem, privateKeyPem: stranger.privateKeyPem, caPem: ca.certificatePem, passphrase: PASSPHRASE, friendlyName: 'x' }))).toBe('INVALID_ARGUMENT');
  });

  it('refuses junk instead of a certificate and an empty friendly name', () => {
    expect(codeOf(() => toPkcs12({ certificatePem: 'junk', privateKeyPem: keys.privateKeyPem, caPem: ca.certificatePem, passphrase: PASSPHRASE, friendlyName: 'x' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => toPkcs12({ certificatePem, privateKeyPem: keys.privateKeyPem, caPem: ca.certificatePem, passphrase: PASSPHRASE, friendlyName: '' }))).toBe('INVALID_ARGUMENT');
  });
});
