/**
 * The certificate lifecycle of a running appliance (docs/certificates.md):
 *   - renewing the TLS server certificate without downtime: a new key and
 *     certificate from the appliance CA, stored under the keychain key and
 *     as the HSM-sealed copy a restart listens with, then handed to every
 *     listener with setSecureContext, so new handshakes get it while open
 *     connections keep the one they began with;
 *   - the daily expiry check: each certificate (CA, server, clients not
 *     revoked) within cert_expiry_warning of its end is recorded once as a
 *     `certificate-expiry-warning` audit event and, once that is durable,
 *     told to the live event stream (kind `certificate-expiry`).
 * "Once" is per certificate serial and warning period, for this server's
 * run: a restart warns again, once, which an operator who has not yet acted
 * may well want. A warning the trail cannot take is not marked, and is tried
 * again at the next check.
 */
import { Clock, isoNow } from '../../common/clock';
import { durationMs, setting } from '../../common/config';
import { Logger } from '../../common/logger';
import { Timer, Timers } from '../../common/timers';
import { adminEvent } from '../../domain/audit/audit-events';
import { AuditEvent, EventStamper } from '../../domain/audit/audit-event';
import { EventBus } from '../../domain/events/event-bus';
import { CertificateInfo, describeCertificate } from '../../domain/pki/certificate-info';
import { CertificateExpiry, certificateExpiries, CertificateLifecycle, describeExpiry, RenewedServerCertificate } from '../../domain/pki/certificate-expiry';
import { parseSans, PkiService } from '../../domain/pki/pki-service';
import { storeTlsIdentityForSealedStart } from '../tls/tls-identity';
import { TlsIdentityPem } from '../tls/listen';
import { Appliance } from './open-appliance';

export const CERTIFICATE_EXPIRY_EVENT = 'certificate-expiry-warning';
/** How often the server looks at its certificates' ends (it also does when the watch starts). */
export const CERTIFICATE_CHECK_INTERVAL_MS = 86_400_000;

/** A listener that serves the server certificate (key server, KMIP, event stream, metrics). */
export interface CredentialHolder {
  renewCredentials(identity: TlsIdentityPem): void;
}

export interface ServerCertificatesOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly stamper: EventStamper;
  readonly events: EventBus;
  /** Resolves once the event is durable. */
  readonly record: (event: AuditEvent) => Promise<void>;
}

/** The event of one warning: what is ending, when, and the warning period, as strings (every custom field is one). */
export function certificateExpiryEvent(stamper: EventStamper, expiry: CertificateExpiry, warningPeriod: string): AuditEvent {
  return {
    ...adminEvent(stamper, CERTIFICATE_EXPIRY_EVENT, null, null),
    custom: { certificate: expiry.certificate, name: expiry.name, serialNumber: expiry.serialNumber, notAfter: expiry.notAfter, daysLeft: String(expiry.daysLeft), warningPeriod },
  };
}

export class ServerCertificates implements CertificateLifecycle {
  readonly warningPeriod: string;
  private readonly warningMs: number;
  private readonly pki: PkiService;
  private readonly holders = new Set<CredentialHolder>();
  /** `serial/warningMs` of every warning recorded in this run. */
  private readonly warned = new Set<string>();
  private timer: Timer | null = null;
  private checking: Promise<void> | null = null;
  /**
   * The server certificate the listeners present, once they started: what
   * clients see end. The keychain's stored one can be newer (a local
   * `server-cert renew` while serving is stored for the next start), and
   * warning of that one would hide the end of the one still served.
   */
  private served: CertificateInfo | null = null;

  constructor(private readonly appliance: Appliance, private readonly options: ServerCertificatesOptions) {
    this.warningPeriod = setting(appliance.config, 'cert_expiry_warning');
    this.warningMs = durationMs(appliance.config, 'cert_expiry_warning');
    this.pki = new PkiService(appliance.keychain, appliance.keychain.directory, options.clock);
  }

  /** A listener starts serving the server certificate; the function given back stops telling it. */
  attach(holder: CredentialHolder): () => void {
    this.holders.add(holder);
    return () => this.holders.delete(holder);
  }

  /** The listeners started with this certificate (listeners.ts); renewServer keeps it current after. */
  serving(certificatePem: string): void {
    this.served = describeCertificate(certificatePem);
  }

  expiries(): CertificateExpiry[] | null {
    if (this.appliance.keychain.isSealed) return null;
    const own = this.pki.applianceCertificates();
    return certificateExpiries({ ca: own.ca, server: this.served ?? own.server, clients: this.appliance.keychain.directory.listClients() }, this.options.clock.nowMs(), this.warningMs);
  }

  async renewServer(options: { validityDays?: number }): Promise<RenewedServerCertificate> {
    const renewed = this.pki.renewServerCertificate({ sans: parseSans(setting(this.appliance.config, 'server_sans')), validityDays: options.validityDays });
    // The copy a restart listens with (even sealed): without it a restart would serve the old certificate.
    await storeTlsIdentityForSealedStart(this.appliance, this.options.clock, renewed);
    const key = Buffer.from(renewed.privateKeyPem);
    try {
      for (const holder of this.holders) holder.renewCredentials({ certificatePem: renewed.certificatePem, privateKeyPem: key, caPem: renewed.caPem });
    } finally {
      key.fill(0);
    }
    const certificate = describeCertificate(renewed.certificatePem);
    this.served = certificate;
    this.options.log.info('server certificate renewed', { serialNumber: certificate.serialNumber, notAfter: certificate.notAfter, previous: renewed.previous.serialNumber });
    return { certificate, previous: renewed.previous };
  }

  /** Checks now, then every CERTIFICATE_CHECK_INTERVAL_MS (while sealed a check finds nothing to read, and the next one looks again). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = this.options.timers.every(CERTIFICATE_CHECK_INTERVAL_MS, () => void this.check());
    void this.check();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.checking;
  }

  /** One check: records the warnings not yet given in this run. Never throws: a failure is logged and tried again next time. */
  check(): Promise<void> {
    // One at a time: two overlapping checks would both warn of the same certificate.
    this.checking ??= this.warnAll().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async warnAll(): Promise<void> {
    let expiries: CertificateExpiry[] | null;
    try {
      expiries = this.expiries();
    } catch (err) {
      this.options.log.error('certificate expiry check failed', { error: String(err) });
      return;
    }
    for (const expiry of expiries ?? []) {
      const mark = `${expiry.certificate}/${expiry.serialNumber}/${this.warningMs}`;
      if (!expiry.warning || this.warned.has(mark)) continue;
      try {
        await this.options.record(certificateExpiryEvent(this.options.stamper, expiry, this.warningPeriod));
      } catch (err) {
        this.options.log.error('certificate expiry warning not recorded; tried again at the next check', { error: String(err) });
        continue;
      }
      this.warned.add(mark);
      this.options.log.warn(`certificate near its end: ${describeExpiry(expiry)}`, { certificate: expiry.certificate, name: expiry.name });
      const { certificate, name, serialNumber, notAfter, daysLeft } = expiry;
      this.options.events.publish({ kind: 'certificate-expiry', certificate, name, serialNumber, notAfter, daysLeft, time: isoNow(this.options.clock) });
    }
  }
}
