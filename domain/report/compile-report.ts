/**
 * Reads what the compliance report needs — every key with its instances,
 * the audit events of the period, the chain verdict — page by page into a
 * ReportBuilder. Shared by the Report operation (server) and the local
 * `strongroom report`. `pause` is awaited between pages so that a server
 * keeps answering other requests while a report over a long trail runs.
 */
import { Clock, isoNow } from '../../common/clock';
import { AuditStore } from '../../storage/audit-store';
import { AuditEvent } from '../audit/audit-event';
import { publicKeyFingerprint } from '../audit/audit-checkpoint';
import { TrailTrust, verifyTrail } from '../audit/audit-verify';
import { canonicalEventTimeMs } from '../audit/audit-filter';
import { Keychain } from '../keychain';
import { isAppliancesNotice } from '../rollover-notices';
import { ReportBuilder } from './report-builder';
import { ChainStatus, ComplianceReport, ReportPeriod } from './report-model';

/** Keys and audit records read per page. */
const KEY_PAGE = 500;
const AUDIT_PAGE = 1000;

export interface ReportSources {
  readonly keychain: Keychain;
  readonly audit: AuditStore;
  readonly clock: Clock;
  /** Awaited between pages (a server yields to its event loop); default: nothing. */
  readonly pause?: () => Promise<void>;
  /** The key checkpoint signatures are checked against; default: none (signatures unchecked, truncation still caught). */
  readonly trust?: ChainTrust;
}

export const NO_TRUST: ChainTrust = { keychainId: '', publicKeyPem: null, source: 'none' };

/** Which signing key checkpoints are checked against, and where it came from (hsm, file, keychain-file, none). */
export interface ChainTrust extends TrailTrust {
  readonly source: string;
}

/** The trail's verdict as the report and `audit verify` show it: verifyTrail's (chain and signed checkpoints) plus the head. */
export function chainStatus(audit: AuditStore, trust: ChainTrust): ChainStatus {
  const verdict = verifyTrail(audit, trust);
  const head = audit.auditHead();
  return {
    ok: verdict.ok,
    events: verdict.events,
    headSeq: head?.seq ?? null,
    headHash: head?.hash.toString('hex') ?? null,
    checkpoints: verdict.checkpoints,
    lastCheckpointSeq: verdict.lastCheckpointSeq,
    unsignedTail: verdict.unsignedTail,
    signaturesChecked: verdict.signaturesChecked,
    lastCheckpoint: verdict.lastCheckpoint,
    anchorsMatched: verdict.anchorsMatched,
    signingKey: { source: trust.source, fingerprint: trust.publicKeyPem === null ? null : publicKeyFingerprint(trust.publicKeyPem) },
    ...(verdict.ok ? {} : { firstBadSeq: verdict.firstBadSeq, reason: verdict.reason }),
  };
}

export async function compileReport(sources: ReportSources, period: ReportPeriod): Promise<ComplianceReport> {
  const fromMs = Date.parse(period.from);
  const toMs = Date.parse(period.to);
  // Parsing is most of the cost: events whose time is outside the period are skipped before it.
  const inPeriod = (canonical: string): boolean => {
    const ms = canonicalEventTimeMs(canonical);
    return ms === null || (ms >= fromMs && ms < toMs);
  };
  const pause = sources.pause ?? (async () => undefined);
  const builder = new ReportBuilder(period, sources.clock.nowMs(), (event) => isAppliancesNotice(sources.keychain, event));
  for (let offset = 0; ; offset += KEY_PAGE) {
    const page = sources.keychain.listKeys({ limit: KEY_PAGE, offset });
    for (const key of page) builder.addKey(sources.keychain.describeKey(key.fullName));
    if (page.length < KEY_PAGE) break;
    await pause();
  }
  for (let from = 1; ; ) {
    const page = sources.audit.readAuditRecords(from, AUDIT_PAGE);
    for (const record of page) if (inPeriod(record.event)) builder.addEvent(JSON.parse(record.event) as AuditEvent);
    if (page.length < AUDIT_PAGE) break;
    from = page[page.length - 1].seq + 1;
    await pause();
  }
  return builder.build(chainStatus(sources.audit, sources.trust ?? NO_TRUST), isoNow(sources.clock));
}
