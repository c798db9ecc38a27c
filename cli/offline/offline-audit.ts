/**
 * Offline audit: reading the data folder's keychain file without the
 * dispatcher, for the checks that must not depend on the appliance they
 * check (an auditor at the console, or with a copy of the file): verifying
 * the chain and its signed checkpoints against a signing key kept apart
 * (`audit verify [--public-key] [--expect]`), verifying an export against
 * the file (`--against-keychain`), printing the signing key (`audit
 * public-key`) and the latest events (`audit tail`). The file is opened
 * read-only and never unsealed; everything else goes through the
 * dispatcher (search, export, report: cli/backend/audit-backend.ts).
 */
import { ChainTrust, chainStatus } from '../../domain/report/compile-report';
import { ChainStatus } from '../../domain/report/report-model';
import { AuditStore } from '../../storage/audit-store';
import { CommandContext } from '../context';
import { trustedSigningKey } from './audit-trust';

export interface LocalVerifyOptions {
  /** The checkpoint signing key to trust (from `audit public-key`). */
  readonly publicKeyFile?: string;
  /** Heads kept from earlier verifications: a trail cut back past them fails. */
  readonly anchors?: ReadonlyArray<{ seq: number; hash: Buffer }>;
}

/** The chain of the local keychain file, its checkpoints checked against the trusted key. */
export async function verifyLocalTrail(ctx: CommandContext, options: LocalVerifyOptions): Promise<ChainStatus> {
  const appliance = ctx.open({ readonly: true });
  const trusted = await trustedSigningKey(appliance, options.publicKeyFile);
  const trust: ChainTrust = { keychainId: appliance.store.getMeta()?.keychainId ?? '', publicKeyPem: trusted.publicKeyPem, source: trusted.source };
  return chainStatus(appliance.store.audit, { ...trust, anchors: options.anchors });
}

/** The local keychain file's trail, read-only (for --against-keychain). */
export function localTrail(ctx: CommandContext): AuditStore {
  return ctx.open({ readonly: true }).store.audit;
}
