/**
 * `strongroom status`: what this appliance is and whether it can unseal.
 * Reads the keychain without the HSM first, then checks that the configured
 * token opens it (skip with --no-hsm). Both ways it names the certificates
 * (CA, server, clients) that end within cert_expiry_warning
 * (docs/certificates.md): remote, as the running appliance's Query says;
 * locally, every one once the HSM unsealed the keychain, else the client
 * records as stored and the CA from ca_file (the server certificate is
 * sealed under the keychain key).
 */
import { existsSync, readFileSync } from 'node:fs';
import { systemClock } from '../../common/clock';
import { ApplianceConfig, durationMs, setting } from '../../common/config';
import { CertificateExpiry, certificateExpiries, describeExpiry } from '../../domain/pki/certificate-expiry';
import { CertificateInfo, describeCertificate } from '../../domain/pki/certificate-info';
import { PkiService } from '../../domain/pki/pki-service';
import { Appliance } from '../../server/compose/open-appliance';
import { Command } from 'commander';
import { asStrongroomError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { UnsealPolicyRecord } from '../../storage/records';
import { runCommand } from '../context';
import type { HsmHealth } from '../../domain/unseal/hsm-health';
import type { UnsealStatus } from '../../domain/unseal/unseal-service';
import { renderUnsealStatus } from './unseal-commands';

interface StatusOptions {
  hsm: boolean;
}

/**
 * The state line. Sealed because the HSM went away is not the state `unseal`
 * ends: the hsm line below says what brings it back (by itself, or the
 * custodians), so this line does not tell the operator to run unseal.
 */
export function stateText(unseal: UnsealStatus, hsm: HsmHealth | null | undefined): string {
  if (unseal.sealed && hsm?.state === 'unavailable') return 'Sealed: its HSM is unavailable (see hsm)';
  return renderUnsealStatus(unseal);
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show the keychain, the HSM token and whether the keychain unseals')
    .option('--no-hsm', 'do not contact the HSM (no PIN needed)')
    .addHelpText(
      'after',
      `
With --server (an officer or auditor certificate) it shows the running
appliance: sealed or not, the custodians' unseal progress (k of M), whether
its HSM answers (when not: sealed, reason hsm-unavailable, since when, and
whether it unseals by itself when the HSM is back), each audit sink:
connected, delivered, queued, dropped, retries, its backlog (events of the
trail not yet delivered) against its spool bound, last error, the scheduled
backups: the schedule, the retention count, the last scheduled backup's time
and outcome and the next due time, and the certificates near their end.

Certificates: the CA, the server and every client certificate that ends within
cert_expiry_warning (default P30D) is shown as a WARNING line (--json:
certificates.certificates[], each with daysLeft and warning). Locally the HSM
unseals the keychain to read the server certificate; with --no-hsm or
custodian shares only the CA (ca_file) and the client records are read.

Examples:
  $ strongroom status
  $ strongroom status --no-hsm
  $ strongroom --server 127.0.0.1:5700 status --json

Exit code 0 when initialised and (unless --no-hsm) the HSM opens it; 5 when
there is no keychain, or (with --server) the appliance is sealed; 6 when the
HSM cannot open it.`,
    )

    .action(
      runCommand(async (ctx, options: StatusOptions) => {
        const config = ctx.config();
        if (config.values.server_address) {
          // Remote mode: what the running appliance says about itself and about us.
          const answer = (await ctx.backend().query()) as { server: string; version: string; identity: { name: string; role: string }; limits: Record<string, number>; unseal?: UnsealStatus | null; hsm?: HsmHealth | null; auditSinks?: AuditSinkLine[]; backups?: BackupsLine | null; certificates?: CertificatesReport | null };
          ctx.out.result({ address: config.values.server_address, ...answer }, () =>
            [
              `Strongroom ${answer.version} at ${config.values.server_address}`,
              `  you are:  ${answer.identity.name} (${answer.identity.role})`,
              ...limitLines(answer.limits),
              ...(answer.unseal ? [`  state:    ${stateText(answer.unseal, answer.hsm)}`] : []),
              ...hsmLines(answer.hsm),
              ...auditSinkLines(answer.auditSinks),
              ...backupLines(answer.backups),
              ...certificateLines(answer.certificates),
            ].join('\n'),
          );
          if (answer.unseal?.sealed) process.exitCode = 5;
          return;
        }
        const keychainPath = setting(config, 'keychain_path');
        // A PostgreSQL keychain has no file to look for: the read-only open below refuses it (NOT_ON_POSTGRES, use --server).
        if (config.values.storage !== 'postgres' && !existsSync(keychainPath)) {
          ctx.out.result({ dataDir: config.dataDir, initialized: false }, () => `No keychain in ${config.dataDir}. Run: strongroom init --data ${config.dataDir} --demo-token`);
          process.exitCode = 5;
          return;
        }
        const appliance = ctx.open({ readonly: true });
        const meta = appliance.store.getMeta();
        const wrapped = appliance.store.listWrappedKeychainKeys();
        const report: Record<string, unknown> = {
          dataDir: config.dataDir,
          configFile: config.configFile,
          initialized: meta !== null,
          keychainPath,
          keychainId: meta?.keychainId ?? null,
          createdAt: meta?.createdAt ?? null,
          token: meta ? { label: meta.tokenLabel, serialNumber: meta.tokenSerial } : null,
          masterKeyVersion: wrapped.at(-1)?.masterKeyVersion ?? null,
          keys: appliance.store.countKeys(),
          hsm: { checked: false },
          unseal: unsealReport(appliance.store.getUnsealPolicy()),
        };
        const policy = appliance.store.getUnsealPolicy();
        if (meta && options.hsm && policy !== null) {
          // Shares are submitted to the server, never to this command: check that the token opens the HSM layer.
          try {
            const hsm = await appliance.hsm();
            for (const record of wrapped) wipe(await hsm.unwrapKey({ mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: record.masterKeyVersion, wrapped: record.wrapped }));
            report.hsm = { checked: true, unseals: false, opensHsmLayer: true, needsShares: policy.threshold, module: setting(config, 'hsm_module') };
          } catch (err) {
            const error = asStrongroomError(err);
            report.hsm = { checked: true, unseals: false, opensHsmLayer: false, error: error.toJSON() };
            process.exitCode = error.exitCode;
          }
        } else if (meta && options.hsm) {
          try {
            await appliance.unseal();
            report.hsm = { checked: true, unseals: true, module: setting(config, 'hsm_module') };
          } catch (err) {
            const error = asStrongroomError(err);
            report.hsm = { checked: true, unseals: false, error: error.toJSON() };
            process.exitCode = error.exitCode;
          }
        }
        if (!meta) process.exitCode = 5;
        const unsealed = meta !== null && !appliance.keychain.isSealed;
        if (meta) report.certificates = localCertificates(appliance, unsealed);
        const hsm = report.hsm as { checked: boolean; unseals?: boolean; needsShares?: number; error?: { code: string; message: string } };
        const hsmLine = !hsm.checked
          ? 'not checked'
          : hsm.error
            ? `cannot unseal: [${hsm.error.code}] ${hsm.error.message}`
            : hsm.unseals
              ? 'reachable; the master key opens the keychain'
              : `reachable; the master key opens its layer, and ${hsm.needsShares} custodian shares are needed too`;
        ctx.out.result(report, () =>
          [
            `Strongroom keychain ${report.keychainId ?? '(not initialised)'}`,
            `  data folder: ${config.dataDir}`,
            `  keychain:    ${keychainPath}`,
            `  token:       ${meta ? `${meta.tokenLabel} (serial ${meta.tokenSerial}), master key v${report.masterKeyVersion}` : '-'}`,
            `  keys:        ${report.keys}`,
            `  HSM:         ${hsmLine}`,
            `  unsealing:   ${policy ? `HSM and ${policy.threshold} of ${policy.shares} custodian shares (a server starts sealed)` : 'HSM alone (PIN file or STRONGROOM_HSM_PIN): not split knowledge'}`,
            ...certificateLines(report.certificates as CertificatesReport | undefined),
          ].join('\n'),
        );
      }),
    );
}

/** The server's limits as aligned name/value lines under a heading (the --json output keeps the object). */
export function limitLines(limits: Record<string, unknown> | undefined): string[] {
  const entries = Object.entries(limits ?? {});
  if (entries.length === 0) return [];
  const width = Math.max(...entries.map(([name]) => name.length));
  return ['  limits:', ...entries.map(([name, value]) => `    ${name.padEnd(width)}  ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)];
}

/** One audit sink as the server's Query reports it (sinks/siem-transport.ts SinkStats). */
interface AuditSinkLine {
  name: string;
  transport: string;
  format: string;
  target: string;
  connected: boolean;
  delivered: number;
  queued: number;
  dropped: number;
  retries: number;
  truncated: number;
  /** Events of the trail not yet delivered (absent from an older server). */
  backlog?: number;
  spool?: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** The text lines of `status --server` for the audit sinks (none when the caller may not see them). */
function auditSinkLines(sinks: AuditSinkLine[] | undefined): string[] {
  if (sinks === undefined) return [];
  if (sinks.length === 0) return ['  audit sinks: none (audit_sinks)'];
  return [
    '  audit sinks:',
    ...sinks.map(
      (s) =>
        `    ${s.name}: ${s.transport}/${s.format} to ${s.target}, ${s.connected ? 'connected' : 'not connected'}; delivered ${s.delivered}, queued ${s.queued}, dropped ${s.dropped}, retries ${s.retries}` +
        (s.truncated > 0 ? `, truncated ${s.truncated}` : '') +
        (s.backlog !== undefined ? `; backlog ${s.backlog} of spool ${s.spool ?? '?'}` : '') +
        (s.lastError ? `; last error ${s.lastErrorAt}: ${s.lastError}` : ''),
    ),
  ];
}

/** The line of `status --server` for the HSM's health (server/compose/hsm-watch.ts): none from a server without a watch. */
function hsmLines(hsm: HsmHealth | null | undefined): string[] {
  if (!hsm) return [];
  if (hsm.state === 'ok') return ['  hsm:      ok'];
  const back = hsm.recovery === 'custodians' ? 'once it is back, the custodians must unseal again (strongroom unseal)' : 'it unseals by itself once the HSM is back';
  return [`  hsm:      UNAVAILABLE since ${hsm.since} (${hsm.error}): sealed, reason hsm-unavailable; ${back}`];
}

/** The server's own backups as its Query reports them (operations/query.ts). */
interface BackupsLine {
  schedule: string;
  retention: number;
  lastScheduled: { at: string; outcome: string; name?: string; message?: string } | null;
  nextDueAt: string | null;
}

/** The text line of `status --server` for the scheduled backups (none when the caller may not see them). */
function backupLines(backups: BackupsLine | null | undefined): string[] {
  if (!backups) return [];
  if (backups.schedule === 'off') return [`  backups:  not scheduled (backup_schedule off); keeps ${backups.retention}`];
  const last = backups.lastScheduled;
  const lastText = last === null ? 'none yet' : last.outcome === 'ok' ? `${last.at} ok (${last.name})` : `${last.at} failed ${last.outcome}: ${last.message ?? ''}`;
  return [`  backups:  every ${backups.schedule}, keeps ${backups.retention}; last scheduled ${lastText}; next due ${backups.nextDueAt}`];
}

function unsealReport(policy: UnsealPolicyRecord | null): Record<string, unknown> {
  return policy === null ? { mode: 'hsm', shares: null, threshold: null } : { mode: 'hsm+shares', shares: policy.shares, threshold: policy.threshold };
}

/** What status reports: the warning period and every certificate with its days left (`warning`: within the period or expired). */
export interface CertificatesReport {
  readonly warningPeriod: string;
  /** False when the server certificate could not be read (a sealed keychain). */
  readonly complete: boolean;
  readonly certificates: CertificateExpiry[];
}

function caFromFile(config: ApplianceConfig): CertificateInfo | null {
  const file = setting(config, 'ca_file');
  try {
    return existsSync(file) ? describeCertificate(readFileSync(file, 'utf8')) : null;
  } catch {
    return null;
  }
}

/** The local report; `unsealed` when this command unsealed the keychain (then the CA and server certificates are read from it). */
export function localCertificates(appliance: Appliance, unsealed: boolean): CertificatesReport {
  const config = appliance.config;
  const warningMs = durationMs(config, 'cert_expiry_warning');
  const own = unsealed ? new PkiService(appliance.keychain, appliance.keychain.directory, systemClock).applianceCertificates() : { ca: caFromFile(config), server: null };
  const clients = appliance.keychain.directory.listClients();
  return { warningPeriod: setting(config, 'cert_expiry_warning'), complete: own.server !== null, certificates: certificateExpiries({ ...own, clients }, systemClock.nowMs(), warningMs) };
}

/** The text lines: one per certificate near its end, or a line saying none is. */
export function certificateLines(report: CertificatesReport | null | undefined): string[] {
  if (!report) return [];
  const near = report.certificates.filter((c) => c.warning);
  const partly = report.complete ? '' : ' (server certificate not read: sealed)';
  if (near.length === 0) return [`  certificates: none ends within ${report.warningPeriod}${partly}`];
  return [`  certificates: ${near.length} ${near.length === 1 ? 'ends' : 'end'} within ${report.warningPeriod}${partly}:`, ...near.map((c) => `    WARNING ${describeExpiry(c)}`)];
}
