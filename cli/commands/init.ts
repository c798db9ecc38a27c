/**
 * `strongroom init`: makes a data folder, optionally a SoftHSM2 demo token,
 * the token's master key (if it has none), the keychain and the HSM signing
 * key, the appliance PKI, and the first officers: as many as dual control
 * needs for one of them to have another issued (domain/pki/init-officers.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { CONFIG_FILE_NAME, loadConfig, setting } from '../../common/config';
import { createSoftHsmToken, findSoftHsmModule } from '../../hsm/softhsm-token';
import { HsmError, KeychainError } from '../../common/errors';
import { initializeKeychain } from '../../domain/keychain-key';
import { randomIds } from '../../domain/ids';
import { systemClock } from '../../common/clock';
import { registerFirstNode } from '../../server/cluster/cluster-join';
import { runCommand } from '../context';
import { bootstrapPki, FIRST_OFFICER } from '../../domain/pki/bootstrap-pki';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { checkShareCounts, makeShareSet, ShareSet } from '../../domain/unseal/split-secret';
import { copyTlsIdentityForSealedStart } from '../../server/tls/tls-identity';
import { storeShareCommitments } from '../../domain/unseal/share-commitments';
import { PkiService } from '../../domain/pki/pki-service';
import { generateClientKeyPair } from '../../client/credentials';
import { issueOfficerFiles, MAX_INIT_OFFICERS, officerIssueQuorum, OfficerFiles, planInitOfficers, recordInitIssues } from '../../domain/pki/init-officers';
import { OFFICER_ISSUE_CLASS } from '../../domain/approvals/quorum-settings';
import { localOperator } from '../../server/local/local-operator';

interface InitOptions {
  demoToken?: boolean;
  tokenLabel?: string;
  hsmModule?: string;
  shares?: string;
  threshold?: string;
  labSingleShare?: boolean;
  officers?: string;
  acceptFewerOfficers?: boolean;
}

/** Parses --shares/--threshold: both or neither; 2 <= M <= N <= 16 (M = 1 only with --lab-single-share). */
function shareCounts(options: InitOptions): { shares: number; threshold: number } | null {
  if (options.shares === undefined && options.threshold === undefined) return null;
  if (options.shares === undefined || options.threshold === undefined) throw new ValidationError('give both --shares N and --threshold M');
  const shares = /^\d{1,3}$/.test(options.shares) ? Number(options.shares) : NaN;
  const threshold = /^\d{1,3}$/.test(options.threshold) ? Number(options.threshold) : NaN;
  checkShareCounts(shares, threshold, options.labSingleShare === true);
  return { shares, threshold };
}

/** Parses --officers (null when absent); the range and the quorum are checked by planInitOfficers. */
function officerCount(options: InitOptions): number | null {
  if (options.officers === undefined) return null;
  if (!/^\d{1,3}$/.test(options.officers)) throw new ValidationError(`--officers must be a whole number from 1 to ${MAX_INIT_OFFICERS}, not "${options.officers}"`);
  return Number(options.officers);
}

export function initCommand(): Command {
  return new Command('init')
    .description('create a keychain sealed by the HSM master key, in the data folder')
    .option('--demo-token', 'also create a SoftHSM2 token inside the data folder (demo and tests only)')
    .option('--token-label <label>', 'label of the HSM token to use (hsm_token_label)')
    .option('--hsm-module <path>', 'PKCS#11 module to load (hsm_module)')
    .option('--shares <n>', 'split knowledge: make N custodian shares (2..16), printed once and never stored')
    .option('--threshold <m>', 'how many shares (with the HSM) unseal the keychain (2..N)')
    .option('--lab-single-share', 'allow --threshold 1 (one custodian alone unseals): labs only')
    .option('--officers <n>', 'officer certificates to make in all, admin and custodians included (default: the officer-issue quorum + 1)')
    .option('--accept-fewer-officers', 'allow --officers below the quorum + 1: dual control can then never be met (labs only)')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom init --data ./demo-data --demo-token
  $ STRONGROOM_HSM_PIN=… strongroom init --hsm-module /opt/hsm/lib/libcs_pkcs11.so --token-label prod-kms
  $ strongroom init --data /srv/strongroom --shares 5 --threshold 3 --json > /dev/tty
  $ strongroom init --data ./lab --demo-token --officers 4

Without --demo-token the token must exist already and its user PIN must be in
the PIN file (hsm_pin_file) or STRONGROOM_HSM_PIN. If the token has no
Strongroom master key yet, init creates master key v1 inside it (never
extractable). The keychain key is random and stored only wrapped by it.

With --shares N --threshold M the keychain key is also bound to a random
secret split into N Shamir shares, one per custodian, printed once (give
each custodian theirs; nothing keeps a copy). The server then starts sealed
and unseals only with the HSM AND M custodians' shares (strongroom unseal).
init also issues one officer certificate per custodian (custodian-1..N, in
DATA/pki/custodians/): the shares of one unseal must come from distinct
certificates. Hand each custodian their certificate and key with their
share, then delete the copies. A commitment to each share is stored (sealed
by the HSM), so a forged share is refused when it is submitted.

First officers: after init, issuing an officer is dual-controlled (class
${OFFICER_ISSUE_CLASS}: Q approvals from officers other than the requester,
Q from dual_control_quorum, default 2; set it before init), so init makes
Q + 1 officers, the fewest with which one officer's request can be approved
by Q others: admin (DATA/pki/admin.crt), then officer-2, officer-3…
(DATA/pki/, keys mode 0600; each an audit event of type init). Custodians
are officers already and count: with --shares N, init makes admin and
custodian-1..N, and officer-K only if that is still fewer than Q + 1.
--officers N asks for N officers in all (admin and custodians included; at
least 1 + the shares); below Q + 1 it is refused unless
--accept-fewer-officers is given, because with fewer officers no
dual-controlled request (an officer's issue, a grant of material, a
destruction, a revocation, a quorum change) can ever gather its approvals,
and no officer can be added. Hand each officer their certificate and key,
then delete the copies here.`,
    )
    .action(
      runCommand(async (ctx, options: InitOptions) => {
        const counts = shareCounts(options);
        // Checked before anything is made: a refused count leaves no half-made data folder.
        const officerPlan = planInitOfficers({
          quorum: officerIssueQuorum(setting(ctx.config(), 'dual_control_quorum')),
          custodians: counts?.shares ?? 0,
          requested: officerCount(options),
          acceptFewer: options.acceptFewerOfficers === true,
        });
        const flags = { hsm_token_label: options.tokenLabel, hsm_module: options.hsmModule };
        let config = ctx.config();
        mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
        const configPath = join(config.dataDir, CONFIG_FILE_NAME);
        const fileSettings: Record<string, string> = {};
        /** Every file init writes, in order, for --json. */
        const written: string[] = [];
        if (options.demoToken) {
          const modulePath = options.hsmModule ?? findSoftHsmModule();
          if (!modulePath) {
            throw new HsmError('HSM_MODULE_NOT_FOUND', 'SoftHSM2 is not installed: run scripts/setup.sh (or apt-get install softhsm2)');
          }
          const label = options.tokenLabel ?? setting(loadConfig({ dataDir: config.dataDir, flags }), 'hsm_token_label');
          const pinFile = join(config.dataDir, 'hsm-user-pin');
          const soPinFile = join(config.dataDir, 'softhsm', 'so-pin');
          mkdirSync(join(config.dataDir, 'softhsm'), { recursive: true, mode: 0o700 });
          for (const file of [pinFile, soPinFile]) {
            if (existsSync(file)) continue;
            writeSecretFile(file, randomBytes(12).toString('hex'));
            written.push(file);
          }
          const token = createSoftHsmToken({
            dir: join(config.dataDir, 'softhsm'),
            label,
            userPin: readText(pinFile),
            soPin: readText(soPinFile),
          });
          written.push(token.softhsmConf);
          Object.assign(fileSettings, { hsm_module: modulePath, hsm_token_label: label, softhsm2_conf: token.softhsmConf });
        } else {
          if (options.hsmModule) fileSettings.hsm_module = options.hsmModule;
          if (options.tokenLabel) fileSettings.hsm_token_label = options.tokenLabel;
        }
        if (!existsSync(configPath)) {
          writeFileSync(configPath, renderConfig(fileSettings), { mode: 0o600 });
          written.push(configPath);
        }
        config = loadConfig({ dataDir: config.dataDir, flags });
        const appliance = ctx.open({ flags, create: true });
        const hsm = await appliance.hsm();
        let shareSet: ShareSet | null = null;
        let meta;
        try {
          if (counts) shareSet = await makeShareSet(counts.shares, counts.threshold, options.labSingleShare === true);
          const binding = shareSet && counts ? { secret: shareSet.secret, ...counts } : undefined;
          // On PostgreSQL other appliances will serve this keychain: each must find the same master key (docs/cluster/one-appliance.md).
          meta = await initializeKeychain(appliance.store, hsm, systemClock, randomIds, binding, { masterKeyCheck: appliance.storage === 'postgres' });
          // Each share is then checked on its own at submission: a forged one cannot sabotage the ceremony.
          if (shareSet) await storeShareCommitments(appliance.store, hsm, systemClock, shareSet.shares);
          await hsm.ensureSigningKey();
          await appliance.keychain.unseal(hsm, shareSet?.secret);
          // On PostgreSQL this is the cluster's first node: its signing key heads the signer list (docs/cluster/join.md).
          const initOperator = localOperator();
          await registerFirstNode(appliance, { operator: { name: initOperator.name, subject: initOperator.subject }, clock: systemClock });
        } finally {
          wipe(shareSet?.secret);
        }
        written.push(setting(config, 'keychain_path'));
        const pki = bootstrapPki(appliance, systemClock, generateClientKeyPair());
        const issuer = new PkiService(appliance.keychain, appliance.keychain.directory, systemClock);
        // One officer certificate per custodian: the shares of an attempt must come from distinct certificates.
        // The keychain cannot be opened locally to issue them later (it needs the custodians), so init does it now.
        const custodianCerts = issueOfficerFiles(issuer, Array.from({ length: counts?.shares ?? 0 }, (_, i) => `custodian-${i + 1}`), join(config.dataDir, 'pki', 'custodians'), generateClientKeyPair);
        const otherOfficers = issueOfficerFiles(issuer, officerPlan.extra, join(config.dataDir, 'pki'), generateClientKeyPair);
        const admin = appliance.keychain.directory.getClientByName(FIRST_OFFICER);
        if (admin === null) throw new KeychainError('INTERNAL_ERROR', `init made no "${FIRST_OFFICER}" officer`);
        const officers: OfficerFiles[] = [{ client: admin, certFile: pki.officerCertFile, keyFile: pki.officerKeyFile }, ...custodianCerts, ...otherOfficers];
        // The trail shows who made the first officers: nobody approved them, init did, at the ceremony.
        const operator = localOperator();
        await recordInitIssues(appliance.store.audit, { clock: systemClock, newId: () => appliance.ids.newId() }, officers.map((o) => o.client), { name: operator.name, subject: operator.subject });
        written.push(pki.caFile, ...officers.flatMap((o) => [o.certFile, o.keyFile]));
        // The server's TLS identity, also sealed for the HSM alone: a sealed server must listen.
        await copyTlsIdentityForSealedStart(appliance, systemClock);
        const token = await hsm.tokenInfo();
        const result = {
          dataDir: config.dataDir,
          configFile: configPath,
          keychainId: meta.keychainId,
          keychainPath: setting(config, 'keychain_path'),
          token: { label: token.label, serialNumber: token.serialNumber, manufacturer: token.manufacturer },
          masterKeyVersions: await hsm.listMasterKeyVersions(),
          demoToken: Boolean(options.demoToken),
          pki: { ...pki, officer: FIRST_OFFICER },
          officers: officers.map((o) => ({ client: o.client.name, certFile: o.certFile, keyFile: o.keyFile })),
          officerQuorum: { class: OFFICER_ISSUE_CLASS, required: officerPlan.needed - 1, officersNeeded: officerPlan.needed },
          unseal: counts ? { mode: 'hsm+shares', ...counts } : { mode: 'hsm' },
          files: written,
          // Shown once, here; never stored anywhere by Strongroom.
          ...(shareSet
            ? { shares: shareSet.shares.map((share, i) => ({ custodian: i + 1, share, client: custodianCerts[i].client.name, certFile: custodianCerts[i].certFile, keyFile: custodianCerts[i].keyFile })) }
            : {}),
        };
        if (officers.length < officerPlan.needed) {
          ctx.out.warn(`only ${officers.length} officer${officers.length === 1 ? '' : 's'}: dual control needs ${officerPlan.needed} (--accept-fewer-officers), so no dual-controlled request can be approved and no officer added`);
        }
        ctx.out.result(result, () =>
          [
            `Initialised keychain ${result.keychainId}`,
            `  data folder:  ${result.dataDir}`,
            `  keychain:     ${result.keychainPath}`,
            `  HSM token:    ${token.label} (serial ${token.serialNumber}), master key v${result.masterKeyVersions.at(-1)}`,
            `  appliance CA: ${pki.caFile}`,
            `  officer:      ${FIRST_OFFICER} (${pki.officerCertFile}, key ${pki.officerKeyFile})`,
            ...otherOfficers.map((o) => `  officer:      ${o.client.name} (${o.certFile}, key ${o.keyFile})`),
            `  dual control: ${officers.length} officer${officers.length === 1 ? '' : 's'}; each one's dual-controlled request needs ${officerPlan.needed - 1} of the others (dual_control_quorum)`,
            ...(shareSet && counts ? renderShares(shareSet.shares, counts.threshold, custodianCerts) : []),
            ...(otherOfficers.length > 0 ? ['', 'Hand each officer their certificate and key, then delete the copies here.'] : []),
            '',
            shareSet
              ? 'Next: strongroom serve (it starts sealed), then M custodians run strongroom --server HOST:PORT unseal'
              : 'Next: strongroom key create <namespace/name> --algorithm AES-256, or strongroom serve',
          ].join('\n'),
        );
      }),
    );
}

function renderShares(shares: readonly string[], threshold: number, certs: readonly OfficerFiles[]): string[] {
  return [
    '',
    `Custodian shares: any ${threshold} of these ${shares.length}, with the HSM, unseal the keychain.`,
    'WARNING: shown only now and stored nowhere. Give each custodian their own line, privately;',
    `fewer than ${threshold} cannot unseal, and losing more than ${shares.length - threshold} locks the keychain for good.`,
    ...shares.map((share, i) => `  custodian ${i + 1}: ${share}`),
    '',
    'Custodian officer certificates (each share of one unseal must come from a different one):',
    ...certs.map((cert, i) => `  custodian ${i + 1}: ${cert.certFile} (key ${cert.keyFile})`),
    'Hand each custodian their certificate and key with their share, then delete the copies here.',
  ];
}

function writeSecretFile(path: string, content: string): void {
  writeFileSync(path, `${content}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function readText(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

function renderConfig(values: Record<string, string>): string {
  const lines = ['# Written by `strongroom init`; every setting and its default: appliance.conf.example.'];
  for (const [key, value] of Object.entries(values)) lines.push(`${key} = ${value}`);
  return `${lines.join('\n')}\n`;
}
