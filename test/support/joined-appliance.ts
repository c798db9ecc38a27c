/**
 * A second (third…) appliance on a keychain another appliance created in a
 * shared PostgreSQL database (issue 17, docs/cluster/one-appliance.md): its own data
 * folder, its own SoftHSM2 token (which must hold the same master key), its
 * own signing key, no init and no PKI bootstrap: it joins the keychain the
 * first one made through the real `strongroom cluster join` path
 * (server/cluster/cluster-join.ts: master key check, signing key, unseal,
 * registration in the signer list), then serves. Clients use the
 * credentials the first appliance issued (one CA, in the database).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { systemClock } from '../../common/clock';
import { Timers } from '../../common/timers';
import { joinCluster, JoinResult } from '../../server/cluster/cluster-join';
import { RunningServer, startApplianceServer } from '../../server/compose/appliance-server';
import { Appliance, openAppliance } from '../../server/compose/open-appliance';
import { Credentials, RawConnection, TEST_LISTENER_BOUNDS, TestToken } from './appliance-fixture';
import { useSoftHsmConf } from './softhsm-fixture';

export interface JoinedAppliance {
  readonly appliance: Appliance;
  /** What `cluster join` answered. */
  readonly joined: JoinResult;
  readonly server: RunningServer;
  connect(credentials: Credentials): Promise<RawConnection>;
  stop(): Promise<void>;
}

/** The configuration of an appliance on `token` with `settings` (the storage ones), in a fresh data folder. */
export function joinedConfig(token: TestToken, settings: Record<string, string>): { config: ReturnType<typeof loadConfig>; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-joined-'));
  writeFileSync(join(dataDir, 'hsm-user-pin'), token.userPin, { mode: 0o600 });
  useSoftHsmConf(token.softhsmConf);
  const flags = { hsm_module: token.modulePath, hsm_token_label: token.label, softhsm2_conf: token.softhsmConf, listen_port: '0', ...TEST_LISTENER_BOUNDS, ...settings };
  return { config: loadConfig({ dataDir, env: {}, flags }), dataDir };
}

/** Opens the existing keychain with `token`, unseals it and serves it (timers injected: the test drives the change poll). */
export async function joinTestAppliance(token: TestToken, settings: Record<string, string>, options: { timers?: Timers; node?: string } = {}): Promise<JoinedAppliance> {
  const { config, dataDir } = joinedConfig(token, settings);
  const appliance = openAppliance(config);
  let server: RunningServer;
  let joined: JoinResult;
  try {
    joined = await joinCluster(appliance, { node: options.node ?? token.label, operator: { name: 'local:test', subject: 'uid=0' }, clock: systemClock });
    server = await startApplianceServer(appliance, { port: 0, timers: options.timers });
  } catch (err) {
    await appliance.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const open: RawConnection[] = [];
  return {
    appliance,
    joined,
    server,
    async connect(credentials) {
      const connection = await RawConnection.open(server.port, credentials, credentials.caPem);
      open.push(connection);
      return connection;
    },
    async stop() {
      for (const connection of open) connection.destroy();
      await server.close();
      await appliance.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
