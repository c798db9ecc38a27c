/**
 * What the audit and report commands work against: AuditSearch and Report
 * through the dispatcher (over mutual TLS with --server and an officer's or
 * auditor's certificate, else in this process as the local operator), and
 * `audit verify`: AuditVerify over the wire, or locally an offline check of
 * the keychain file against a signing key kept apart (cli/offline/), which
 * must not depend on the appliance it checks.
 */
import { ValidationError } from '../../common/errors';
import type { AuditSearchArgs, AuditSearchResult, ChainStatus, ComplianceReport } from '../../client/types';
import { HARD_MAX_FRAME_BYTES } from '../../protocol/frame-codec';
import { CommandContext } from '../context';
import { verifyLocalTrail } from '../offline/offline-audit';

export interface AuditBackend {
  readonly mode: 'local' | 'remote';
  search(query: AuditSearchArgs): Promise<AuditSearchResult>;
  /** `publicKeyFile`: the checkpoint signing key to trust (local mode only; the server uses its HSM's). */
  verify(options?: { publicKeyFile?: string; anchors?: ReadonlyArray<{ seq: number; hash: Buffer }> }): Promise<ChainStatus>;
  report(period: { from?: string; to?: string }): Promise<ComplianceReport>;
}

/** Runs `use` with the audit backend of this command (the wire with --server, else the in-process transport), closing it afterwards. */
export async function withAuditBackend<T>(ctx: CommandContext, use: (backend: AuditBackend) => Promise<T>): Promise<T> {
  const remote = Boolean(ctx.config().values.server_address);
  // A report or a search page can be larger than a key request's answer.
  const requester = ctx.requester({ maxFrameBytes: HARD_MAX_FRAME_BYTES });
  const defined = (args: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
  const backend: AuditBackend = {
    mode: remote ? 'remote' : 'local',
    search: (query) => requester.request<AuditSearchResult>('AuditSearch', defined({ ...query })),
    verify: async (options = {}) => {
      // Locally the file is checked offline, against a key kept apart: not by the appliance it checks.
      if (!remote) return verifyLocalTrail(ctx, options);
      if (options.publicKeyFile !== undefined) throw new ValidationError('--public-key is for local mode: over the wire the appliance checks the checkpoints with its HSM signing key');
      if (options.anchors !== undefined && options.anchors.length > 0) throw new ValidationError('--expect is for local mode (on the appliance, or a copy of its keychain file): over the wire, compare headSeq and headHash with what you kept');
      return requester.request<ChainStatus>('AuditVerify');
    },
    report: (period) => requester.request<ComplianceReport>('Report', defined({ ...period })),
  };
  return use(backend);
}

/** Positive integer flags (--limit, --from-seq); INVALID_ARGUMENT naming the flag otherwise. */
export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) throw new ValidationError(`${flag} must be a whole number from 1 (got "${value}")`, { details: { field: flag } });
  return parsed;
}
