/**
 * What the audit and report commands work against: the local keychain file
 * (opened read-only; the HSM is needed only for the report's key inventory,
 * whose rows are authenticated with the keychain key) or a running
 * appliance over mutual TLS (`--server`, with an officer's or an auditor's
 * certificate: AuditSearch, AuditVerify, Report).
 *
 * Kept apart from CliBackend because local audit reading must not unseal
 * (an auditor at the console needs no HSM PIN to search or verify the
 * trail), and never writes the keychain.
 */
import { systemClock } from '../../common/clock';
import { ValidationError } from '../../common/errors';
import { AuditEvent } from '../../domain/audit/audit-event';
import { AuditFilterInput, parseAuditFilter } from '../../domain/audit/audit-filter';
import { searchAudit } from '../../domain/audit/audit-search';
import { ChainTrust, chainStatus, compileReport } from '../../domain/report/compile-report';
import { trustedSigningKey } from '../commands/audit-trust';
import { reportPeriod } from '../../domain/report/report-builder';
import { ChainStatus, ComplianceReport } from '../../domain/report/report-model';
import { HARD_MAX_FRAME_BYTES } from '../../protocol/frame-codec';
import { AuditStore } from '../../storage/audit-store';
import { CommandContext } from '../context';
import { cliClient, wire } from './remote-backend';

export interface AuditSearchQuery extends AuditFilterInput {
  readonly fromSeq?: number;
  readonly limit?: number;
}

/** One event as an export line carries it (domain/audit/audit-line.ts). */
export interface AuditLineView {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly event: AuditEvent;
}

export interface AuditSearchPage {
  readonly events: AuditLineView[];
  /** Where the next page starts, or null at the end of the trail. */
  readonly nextSeq: number | null;
  readonly scanned: number;
}

export interface AuditBackend {
  readonly mode: 'local' | 'remote';
  search(query: AuditSearchQuery): Promise<AuditSearchPage>;
  /** `publicKeyFile`: the checkpoint signing key to trust (local mode only; the server uses its HSM's). */
  verify(options?: { publicKeyFile?: string; anchors?: ReadonlyArray<{ seq: number; hash: Buffer }> }): Promise<ChainStatus>;
  report(period: { from?: string; to?: string }): Promise<ComplianceReport>;
  /** The local trail (for --against-keychain); null over the wire. */
  localStore(): AuditStore | null;
  close(): Promise<void>;
}

function filterOf(query: AuditSearchQuery): AuditFilterInput {
  const { fromSeq: _fromSeq, limit: _limit, ...filter } = query;
  return filter;
}

function localAuditBackend(ctx: CommandContext): AuditBackend {
  const appliance = ctx.open({ readonly: true });
  const audit = appliance.store.audit;
  const localTrust = async (publicKeyFile: string | undefined): Promise<ChainTrust> => {
    const trusted = await trustedSigningKey(appliance, publicKeyFile);
    return { keychainId: appliance.store.getMeta()?.keychainId ?? '', publicKeyPem: trusted.publicKeyPem, source: trusted.source };
  };
  return {
    mode: 'local',
    search: async (query) => {
      const found = searchAudit(audit, parseAuditFilter(filterOf(query)), { fromSeq: query.fromSeq, limit: query.limit });
      return {
        events: found.records.map((r) => ({ seq: r.seq, prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex'), event: JSON.parse(r.event) as AuditEvent })),
        nextSeq: found.nextSeq,
        scanned: found.scanned,
      };
    },
    verify: async (options = {}) => chainStatus(audit, { ...(await localTrust(options.publicKeyFile)), anchors: options.anchors }),
    report: async (period) => {
      const reportPeriodValue = reportPeriod(systemClock, period.from, period.to);
      await appliance.unseal();
      return compileReport({ keychain: appliance.keychain, audit, clock: systemClock, trust: await localTrust(undefined) }, reportPeriodValue);
    },
    localStore: () => audit,
    close: async () => undefined, // the context closes the appliance it opened
  };
}

function remoteAuditBackend(ctx: CommandContext, address: string): AuditBackend {
  const config = ctx.config();
  // A report or a search page can be larger than a key request's answer.
  const client = cliClient(config, address, { maxFrameBytes: HARD_MAX_FRAME_BYTES });
  const defined = (args: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  return {
    mode: 'remote',
    search: (query) => wire(() => client.request<AuditSearchPage>('AuditSearch', defined({ ...query }))),
    verify: (options = {}) => {
      if (options.publicKeyFile !== undefined) throw new ValidationError('--public-key is for local mode: over the wire the appliance checks the checkpoints with its HSM signing key');
      if (options.anchors !== undefined && options.anchors.length > 0) throw new ValidationError('--expect is for local mode (on the appliance, or a copy of its keychain file): over the wire, compare headSeq and headHash with what you kept');
      return wire(() => client.request<ChainStatus>('AuditVerify'));
    },
    report: (period) => wire(() => client.request<ComplianceReport>('Report', defined({ ...period }))),
    localStore: () => null,
    close: () => client.close(),
  };
}

/** Runs `use` with the audit backend of this command (remote with --server), closing it afterwards. */
export async function withAuditBackend<T>(ctx: CommandContext, use: (backend: AuditBackend) => Promise<T>): Promise<T> {
  const address = ctx.config().values.server_address;
  const backend = address ? remoteAuditBackend(ctx, address) : localAuditBackend(ctx);
  try {
    return await use(backend);
  } finally {
    await backend.close().catch(() => undefined);
  }
}

/** Positive integer flags (--limit, --from-seq); INVALID_ARGUMENT naming the flag otherwise. */
export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) throw new ValidationError(`${flag} must be a whole number from 1 (got "${value}")`, { details: { field: flag } });
  return parsed;
}
