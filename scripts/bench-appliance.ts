/**
 * Brings up a benchmark appliance in a folder, in this process, shared by
 * the socket and rollover benchmarks: a fresh SoftHSM2 token, a keychain, the
 * appliance PKI, and a way to issue client credentials. The caller adds its
 * keys and grants, then closes it (the benchmark server opens it again).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoNow, systemClock } from '../common/clock';
import { loadConfig } from '../common/config';
import { randomIds } from '../domain/ids';
import { initializeKeychain } from '../domain/keychain-key';
import { createSoftHsmToken } from '../hsm/softhsm-token';
import { bootstrapPki } from '../domain/pki/bootstrap-pki';
import { Appliance, openAppliance } from '../server/compose/open-appliance';
import { generateClientKeyPair } from '../client/credentials';
import { PkiService } from '../domain/pki/pki-service';
import { registerFirstNode } from '../server/cluster/cluster-join';
import { Credentials } from './bench-socket-load';

export interface BenchAppliance {
  readonly appliance: Appliance;
  readonly dataDir: string;
  /** The settings the benchmark server must be started with. */
  readonly flags: Record<string, string>;
  readonly pki: PkiService;
  issue(name: string, role: 'app' | 'officer'): Credentials;
  /** Grants `client` these permissions on every key under bench/ (written straight into the keychain: set-up, not a request). */
  grantBench(client: string, permissions: readonly string[], by: string): void;
}

export async function createBenchAppliance(dir: string, extraFlags: Record<string, string> = {}): Promise<BenchAppliance> {
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pin = randomBytes(16).toString('hex');
  const token = createSoftHsmToken({ dir: join(dir, 'hsm'), label: 'bench', userPin: pin, soPin: randomBytes(16).toString('hex') });
  process.env.SOFTHSM2_CONF = token.softhsmConf;
  writeFileSync(join(dataDir, 'hsm-user-pin'), pin, { mode: 0o600 });
  const flags: Record<string, string> = {
    hsm_module: token.modulePath,
    hsm_token_label: token.label,
    softhsm2_conf: token.softhsmConf,
    listen_port: '0',
    rate_limit_per_second: '10000000',
    idle_timeout_ms: '3600000',
    ...extraFlags,
  };
  const appliance = openAppliance(loadConfig({ dataDir, env: {}, flags }), { create: true });
  try {
    // As `strongroom init` does: on PostgreSQL the master key check value, and the node's signer registered before its first checkpoint.
    const onPostgres = appliance.storage === 'postgres';
    await initializeKeychain(appliance.store, await appliance.hsm(), systemClock, randomIds, undefined, { masterKeyCheck: onPostgres });
    await (await appliance.hsm()).ensureSigningKey();
    await appliance.unseal();
    await registerFirstNode(appliance, { node: 'bench-node', operator: { name: 'local:bench', subject: 'uid=0' }, clock: systemClock });
    bootstrapPki(appliance, systemClock, generateClientKeyPair());
  } catch (err) {
    await appliance.close();
    throw err;
  }
  const pki = new PkiService(appliance.keychain, appliance.keychain.directory, systemClock);
  return {
    appliance,
    dataDir,
    flags,
    pki,
    issue(name, role) {
      const pair = generateClientKeyPair();
      const issued = pki.issueClient({ name, role, groups: [], publicKeyPem: pair.publicKeyPem });
      return { certificatePem: issued.certificatePem, privateKeyPem: pair.privateKeyPem, caPem: pki.serverCredentials().caPem };
    },
    grantBench(client, permissions, by) {
      appliance.keychain.directory.putGrant({ id: randomUUID(), subjectKind: 'client', subject: client, pattern: 'bench/*', permissions: [...permissions], createdAt: isoNow(systemClock), createdBy: by });
    },
  };
}
