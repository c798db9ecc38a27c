/**
 * The PKI part of `strongroom init`: the appliance CA, the server
 * certificate, and the first officer's client certificate, written to
 * DATA/pki/ (ca.pem, admin.crt, and admin.key with mode 0600). The CA and
 * server private keys stay sealed in the keychain, never in a file.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Clock } from '../../common/clock';
import { parseSans, PkiService } from './pki-service';
import { Appliance } from '../../server/compose/open-appliance';
import { setting } from '../../common/config';

export const FIRST_OFFICER = 'admin';

export interface BootstrapResult {
  readonly caFile: string;
  readonly officerCertFile: string;
  readonly officerKeyFile: string;
}

/**
 * `officerKeys` is the first officer's key pair, made on the client's side
 * (client/credentials.ts generateClientKeyPair) like every client's: only
 * its public key is certified here; the private key is written to its file.
 */
export function bootstrapPki(appliance: Appliance, clock: Clock, officerKeys: { publicKeyPem: string; privateKeyPem: string }): BootstrapResult {
  const config = appliance.config;
  const pki = new PkiService(appliance.keychain, appliance.keychain.directory, clock);
  const { caPem } = pki.bootstrap({ commonName: 'strongroom', sans: parseSans(setting(config, 'server_sans')) });
  const officer = pki.issueClient({ name: FIRST_OFFICER, role: 'officer', groups: [], publicKeyPem: officerKeys.publicKeyPem });
  const dir = join(config.dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caFile: setting(config, 'ca_file'),
    officerCertFile: setting(config, 'client_cert'),
    officerKeyFile: setting(config, 'client_key'),
  };
  writeFileSync(files.caFile, caPem, { mode: 0o644 });
  writeFileSync(files.officerCertFile, officer.certificatePem, { mode: 0o644 });
  writeFileSync(files.officerKeyFile, officerKeys.privateKeyPem, { mode: 0o600 });
  chmodSync(files.officerKeyFile, 0o600);
  return files;
}
