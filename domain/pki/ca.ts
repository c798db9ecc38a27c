/**
 * Creates the appliance CA (docs/protocol.md §1): a self-signed RSA-3072 root
 * that issues the server certificate and every client certificate. It may
 * sign end-entity certificates only (pathLen 0). Pure: the lead stores the
 * returned PEMs (the key sealed), nothing is written here.
 */
import forge from 'node-forge';
import { createPrivateKey } from 'node:crypto';
import { Clock } from '../../common/clock';
import { assertCommonName, assertValidityDays, CA_KEY_BITS, MAX_CA_VALIDITY_DAYS } from './pki-policy';
import { CaMaterial, generateRsaKeyPair, newCertificate, signCertificate, validityWindow } from './x509-builder';

export interface CreateCaOptions {
  readonly commonName: string;
  readonly validityDays: number;
  readonly clock: Clock;
}

/**
 * @example
 *   const ca = createCa({ commonName: 'Strongroom CA', validityDays: 3650, clock: systemClock });
 */
export function createCa(options: CreateCaOptions): CaMaterial {
  assertCommonName(options.commonName);
  assertValidityDays(options.validityDays, MAX_CA_VALIDITY_DAYS);
  const keys = generateRsaKeyPair(CA_KEY_BITS);
  const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: options.commonName }];
  const cert = newCertificate({ subject, publicKeyPem: keys.publicKeyPem, ...validityWindow(options.clock, options.validityDays) });
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const certificatePem = signCertificate(cert, createPrivateKey(keys.privateKeyPem));
  return { certificatePem, privateKeyPem: keys.privateKeyPem };
}
