/**
 * The certificates part of `strongroom status`: which of the CA, server and
 * client certificates end within cert_expiry_warning (docs/certificates.md).
 * Remote, the running appliance says (Query, for officers and auditors);
 * locally, the keychain does: every certificate once the HSM unsealed it,
 * else the client records as stored and the CA from ca_file (the server
 * certificate is sealed under the keychain key).
 */
import { existsSync, readFileSync } from 'node:fs';
import { systemClock } from '../../common/clock';
import { ApplianceConfig, durationMs, setting } from '../../common/config';
import { CertificateExpiry, certificateExpiries, describeExpiry } from '../../domain/pki/certificate-expiry';
import { CertificateInfo, describeCertificate } from '../../domain/pki/certificate-info';
import { PkiService } from '../../domain/pki/pki-service';
import { Appliance } from '../../server/compose/open-appliance';

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
  return [`  certificates: ${near.length} end within ${report.warningPeriod}${partly}:`, ...near.map((c) => `    WARNING ${describeExpiry(c)}`)];
}
