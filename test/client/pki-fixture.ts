/**
 * Certificates for client tests, from the real appliance PKI (domain/pki):
 * one CA, a server certificate for 127.0.0.1/localhost and a client
 * certificate. RSA key generation is slow: call once per file, in beforeAll.
 */
import { systemClock } from '../../common/clock';
import { createCa } from '../../domain/pki/ca';
import { issueClientCertificate, issueServerCertificate } from '../../domain/pki/issue';
import { generateClientKeyPair } from '../../client/credentials';
import { CaMaterial } from '../../domain/pki/x509-builder';

export interface TestPki {
  readonly ca: CaMaterial;
  readonly server: { readonly cert: string; readonly key: string };
  readonly client: { readonly cert: string; readonly key: string };
}

export function makePki(commonName = 'Strongroom Client Test CA'): TestPki {
  const ca = createCa({ commonName, validityDays: 30, clock: systemClock });
  const server = issueServerCertificate({
    ca,
    commonName: 'localhost',
    sans: [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }],
    validityDays: 2,
    clock: systemClock,
  });
  const keys = generateClientKeyPair();
  const client = issueClientCertificate({ ca, name: 'billing-app', role: 'app', groups: [], publicKeyPem: keys.publicKeyPem, validityDays: 2, clock: systemClock });
  return { ca, server: { cert: server.certificatePem, key: server.privateKeyPem }, client: { cert: client.certificatePem, key: keys.privateKeyPem } };
}
