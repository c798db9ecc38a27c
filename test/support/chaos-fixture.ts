/**
 * Data folders for the chaos test, made once and killed into many times:
 * one SoftHSM2 token per lane (all in one SoftHSM2 configuration, made
 * before the module first initialises), and per lane a data folder with an
 * initialised keychain, the audit signing key, the appliance PKI and three
 * officers (dual control at its default quorum of 2). Lanes run their
 * children side by side, each on its own folder and token, so the waits of
 * one (fsyncs, the child's start) overlap the work of another.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../../common/clock';
import { loadConfig, setting } from '../../common/config';
import { randomIds } from '../../domain/ids';
import { initializeKeychain } from '../../domain/keychain-key';
import { bootstrapPki } from '../../domain/pki/bootstrap-pki';
import { PkiService } from '../../domain/pki/pki-service';
import { generateClientKeyPair } from '../../client/credentials';
import { openAppliance } from '../../server/compose/open-appliance';
import { CHAOS_OFFICERS } from './chaos-scenarios';
import { makeSoftHsmFixture, SoftHsmFixture, useSoftHsmConf } from './softhsm-fixture';

const DAY_MS = 86_400_000;

export interface ChaosLane {
  readonly index: number;
  readonly label: string;
  readonly dataDir: string;
  readonly keychainPath: string;
  readonly backupDir: string;
  /** The lane's temporary folder (its children's TMPDIR): what a killed child leaves there is counted at the end. */
  readonly tmpDir: string;
  /** The settings every child of the lane opens the folder with (as command-line flags). */
  readonly flags: Record<string, string>;
  /** The environment of its children (without the scenario). */
  readonly env: NodeJS.ProcessEnv;
}

export interface ChaosFolders {
  readonly token: SoftHsmFixture;
  readonly lanes: readonly ChaosLane[];
  cleanup(): Promise<void>;
}

const labelOf = (lane: number): string => `sr-chaos-${lane}`;

/** `settings` are the appliance settings of every lane (beside the HSM's). */
export async function makeChaosFolders(laneCount: number, settings: Record<string, string>): Promise<ChaosFolders> {
  const labels = Array.from({ length: laneCount }, (_, i) => labelOf(i));
  const token = await makeSoftHsmFixture(labels[0], { extraLabels: labels.slice(1) });
  useSoftHsmConf(token.softhsmConf);
  const root = mkdtempSync(join(tmpdir(), 'strongroom-chaos-'));
  const lanes: ChaosLane[] = [];
  try {
    for (const [index, label] of labels.entries()) {
      const dataDir = join(root, `lane-${index}`);
      const flags = { hsm_module: token.modulePath, hsm_token_label: label, softhsm2_conf: token.softhsmConf, ...settings };
      const config = loadConfig({ dataDir, env: {}, flags });
      const appliance = openAppliance(config, { create: true });
      writeFileSync(join(dataDir, 'hsm-user-pin'), token.userPin, { mode: 0o600 });
      try {
        const hsm = await appliance.hsm();
        await initializeKeychain(appliance.store, hsm, systemClock, randomIds);
        // As `strongroom init` does: the key that signs audit checkpoints and backups.
        await hsm.ensureSigningKey();
        await appliance.unseal();
        bootstrapPki(appliance, new ManualClock(Date.now() - DAY_MS), generateClientKeyPair());
        const pki = new PkiService(appliance.keychain, appliance.keychain.directory, systemClock);
        for (const name of CHAOS_OFFICERS) pki.issueClient({ name, role: 'officer', groups: [], publicKeyPem: generateClientKeyPair().publicKeyPem });
      } finally {
        await appliance.close();
      }
      const tmpDir = join(root, `tmp-${index}`);
      mkdirSync(tmpDir, { mode: 0o700 });
      lanes.push({
        index,
        tmpDir,
        label,
        dataDir,
        keychainPath: setting(config, 'keychain_path'),
        backupDir: setting(config, 'backup_dir'),
        flags,
        env: { ...process.env, SOFTHSM2_CONF: token.softhsmConf, TMPDIR: tmpDir, SR_DATA: dataDir, SR_FLAGS: JSON.stringify(flags) },
      });
    }
  } catch (err) {
    await token.cleanup();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    token,
    lanes,
    async cleanup() {
      await token.cleanup();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
