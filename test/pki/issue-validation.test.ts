/**
 * Input rules and certificate contents of the appliance PKI
 * (domain/pki/issue.ts, ca.ts, san.ts, certificate-info.ts): every bad input
 * is INVALID_ARGUMENT, and what the certificates say is what the API reports.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { ManualClock } from '../../common/clock';
import { createCa } from '../../domain/pki/ca';
import { describeCertificate, fingerprintOfDer } from '../../domain/pki/certificate-info';
import { issueClientCertificate, IssueClientOptions, issueServerCertificate } from '../../domain/pki/issue';
import { generateClientKeyPair } from '../../client/credentials';
import { CLOCK_SKEW_MS, MAX_LEAF_VALIDITY_DAYS, MS_PER_DAY } from '../../domain/pki/pki-policy';
import { ipToBytes } from '../../domain/pki/san';
import { CaMaterial } from '../../domain/pki/x509-builder';
import { codeOf, NO_ERROR } from '../support/error-code';

const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
const clock = new ManualClock(NOW);
let ca: CaMaterial;
let publicKeyPem: string;

beforeAll(() => {
  ca = createCa({ commonName: 'Strongroom Validation CA', validityDays: 3650, clock });
  publicKeyPem = generateClientKeyPair().publicKeyPem;
});

function clientOptions(overrides: Partial<IssueClientOptions> = {}): IssueClientOptions {
  return { ca, name: 'app-1', role: 'app', groups: ['g1'], publicKeyPem, validityDays: 30, clock, ...overrides };
}

describe('createCa', () => {
  it('makes a 3072-bit RSA CA with pathLen 0, critical keyCertSign+cRLSign and a subjectKeyIdentifier', () => {
    const x509 = new X509Certificate(ca.certificatePem);
    expect(x509.ca).toBe(true);
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(x509.checkIssued(x509)).toBe(true);
    const forgeCert = forge.pki.certificateFromPem(ca.certificatePem);
    expect(forgeCert.getExtension('basicConstraints')).toMatchObject({ cA: true, pathLenConstraint: 0, critical: true });
    expect(forgeCert.getExtension('keyUsage')).toMatchObject({ keyCertSign: true, cRLSign: true, digitalSignature: false, critical: true });
    expect(forgeCert.getExtension('subjectKeyIdentifier')).toBeTruthy();
    expect(new Date(x509.validFrom).getTime()).toBe(NOW - CLOCK_SKEW_MS);
  });

  it.each([['', 30], ['CA', 0], ['CA', 1.5], ['x'.repeat(65), 30], ['bad\u0000name', 30]])('refuses commonName %j / validityDays %j', (commonName, validityDays) => {
    expect(codeOf(() => createCa({ commonName: commonName as string, validityDays: validityDays as number, clock }))).toBe('INVALID_ARGUMENT');
  });
});

describe('issueClientCertificate', () => {
  it('reports serial, fingerprint and validity as node:crypto reads them; subject CN = name, OU = role', () => {
    const issued = issueClientCertificate(clientOptions({ role: 'officer' }));
    const x509 = new X509Certificate(issued.certificatePem);
    expect(x509.subject).toBe('CN=app-1\nOU=officer');
    expect(issued.fingerprint256).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.fingerprint256).toBe(fingerprintOfDer(x509.raw));
    expect(issued.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(issued.serialNumber).toBe(x509.serialNumber.toLowerCase());
    expect(issued.notBefore).toBe(new Date(NOW - CLOCK_SKEW_MS).toISOString());
    expect(issued.notAfter).toBe(new Date(NOW + 30 * MS_PER_DAY).toISOString());
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(x509.checkIssued(new X509Certificate(ca.certificatePem))).toBe(true);
    expect(x509.verify(new X509Certificate(ca.certificatePem).publicKey)).toBe(true);
  });

  it('gives every certificate a fresh serial', () => {
    expect(issueClientCertificate(clientOptions()).serialNumber).not.toBe(issueClientCertificate(clientOptions()).serialNumber);
  });

  it('accepts the limits: a 64-character name, 32 groups, 825 days', () => {
    const groups = Array.from({ length: 32 }, (_, i) => `group.${i}`);
    expect(codeOf(() => issueClientCertificate(clientOptions({ name: 'a'.repeat(64), groups, validityDays: MAX_LEAF_VALIDITY_DAYS })))).toBe(NO_ERROR);
  });

  it.each([
    ['empty name', { name: '' }],
    ['name starting with a dot', { name: '.app' }],
    ['name with a slash', { name: 'a/b' }],
    ['name with a space', { name: 'a b' }],
    ['65-character name', { name: 'a'.repeat(65) }],
    ['unknown role', { role: 'root' as never }],
    ['bad group', { groups: ['ok', '-bad'] }],
    ['33 groups', { groups: Array.from({ length: 33 }, (_, i) => `g${i}`) }],
    ['repeated group', { groups: ['g', 'g'] }],
    ['groups not an array', { groups: 'g1' as never }],
    ['validity 0 days', { validityDays: 0 }],
    ['validity 826 days', { validityDays: 826 }],
    ['fractional validity', { validityDays: 1.5 }],
    ['junk public key', { publicKeyPem: 'not a key' }],
    ['truncated public key', { publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n' }],
    ['a private key instead of a public one', { publicKeyPem: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }],
    ['an EC public key', { publicKeyPem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    ['a 1024-bit RSA key', { publicKeyPem: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    ['a CA that does not parse', { ca: { certificatePem: '', privateKeyPem: '' } }],
  ])('refuses %s with INVALID_ARGUMENT', (_title, overrides) => {
    expect(codeOf(() => issueClientCertificate(clientOptions(overrides as Partial<IssueClientOptions>)))).toBe('INVALID_ARGUMENT');
  });

  it('refuses to issue when the CA is not valid at the clock time', () => {
    expect(codeOf(() => issueClientCertificate(clientOptions({ clock: new ManualClock(NOW - MS_PER_DAY) })))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => issueClientCertificate(clientOptions({ clock: new ManualClock(NOW + 3651 * MS_PER_DAY) })))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a CA private key that does not belong to the CA certificate', () => {
    const stranger = generateClientKeyPair().privateKeyPem;
    expect(codeOf(() => issueClientCertificate(clientOptions({ ca: { certificatePem: ca.certificatePem, privateKeyPem: stranger } })))).toBe('INVALID_ARGUMENT');
  });

  it('does not let a leaf outlive its CA', () => {
    const late = new ManualClock(NOW + 3640 * MS_PER_DAY);
    const issued = issueClientCertificate(clientOptions({ clock: late, validityDays: 30 }));
    expect(issued.notAfter).toBe(describeCertificate(ca.certificatePem).notAfter);
  });
});

describe('issueServerCertificate', () => {
  it('puts DNS and IP SANs (v4, v6, v4-mapped v6) and serverAuth in the certificate', () => {
    const sans = [
      { type: 'dns' as const, value: 'Vault.Example.lan' },
      { type: 'ip' as const, value: '10.0.0.7' },
      { type: 'ip' as const, value: '2001:db8::1' },
      { type: 'ip' as const, value: '::ffff:192.0.2.1' },
    ];
    const issued = issueServerCertificate({ ca, commonName: 'vault.example.lan', sans, validityDays: 397, clock });
    const x509 = new X509Certificate(issued.certificatePem);
    expect(x509.subjectAltName).toBe('DNS:vault.example.lan, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201');
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x509.checkHost('vault.example.lan')).toBe('vault.example.lan');
    expect(x509.checkIP('10.0.0.7')).toBe('10.0.0.7');
    expect(x509.checkPrivateKey(createPrivateKey(issued.privateKeyPem))).toBe(true);
    expect(createPublicKey(issued.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it.each([
    ['no SANs', []],
    ['a wildcard', [{ type: 'dns', value: '*.example.lan' }]],
    ['a label ending in a hyphen', [{ type: 'dns', value: 'bad-.example' }]],
    ['an underscore', [{ type: 'dns', value: 'a_b.example' }]],
    ['a 64-character label', [{ type: 'dns', value: `${'a'.repeat(64)}.lan` }]],
    ['an IP given as dns', [{ type: 'dns', value: '10.0.0.1' }]],
    ['a non-IP as ip', [{ type: 'ip', value: 'localhost' }]],
    ['an IPv4 with 5 parts', [{ type: 'ip', value: '1.2.3.4.5' }]],
    ['an IPv6 zone', [{ type: 'ip', value: 'fe80::1%eth0' }]],
    ['an unknown type', [{ type: 'uri', value: 'https://x' }]],
    ['a non-string value', [{ type: 'dns', value: 7 }]],
  ])('refuses %s with INVALID_ARGUMENT', (_title, sans) => {
    expect(codeOf(() => issueServerCertificate({ ca, commonName: 'x', sans: sans as never, validityDays: 30, clock }))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a validity beyond 825 days', () => {
    expect(codeOf(() => issueServerCertificate({ ca, commonName: 'x', sans: [{ type: 'dns', value: 'x' }], validityDays: 826, clock }))).toBe('INVALID_ARGUMENT');
  });
});

describe('ipToBytes', () => {
  it.each([
    ['127.0.0.1', '7f000001'],
    ['::', '0'.repeat(32)],
    ['::1', `${'0'.repeat(30)}01`],
    ['1::', `0001${'0'.repeat(28)}`],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
    ['::1.2.3.4', '00000000000000000000000001020304'],
  ])('encodes %s', (ip, hex) => {
    expect(Buffer.from(ipToBytes(ip), 'binary').toString('hex')).toBe(hex);
  });
});

describe('describeCertificate', () => {
  it('reads subject and issuer CNs', () => {
    const info = describeCertificate(issueClientCertificate(clientOptions()).certificatePem);
    expect(info).toMatchObject({ subjectCommonName: 'app-1', issuerCommonName: 'Strongroom Validation CA' });
  });

  it('refuses junk with INVALID_ARGUMENT', () => {
    expect(codeOf(() => describeCertificate('junk'))).toBe('INVALID_ARGUMENT');
  });
});
