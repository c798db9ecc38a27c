/**
 * Offline audit: reading the data folder's keychain file, or an exported
 * file, without the dispatcher, for the checks that must not depend on the
 * appliance they check (an auditor at the console, or with a copy of the
 * file): verifying the chain and its signed checkpoints against a signing
 * key kept apart (`audit verify [--public-key] [--expect]`), verifying an
 * export (`audit verify --from-file`, optionally `--against-keychain`),
 * printing the signing key (`audit public-key`) and the latest events
 * (`audit tail`). The keychain file is opened read-only and never unsealed;
 * everything else goes through the dispatcher (search, export, report:
 * cli/backend/audit-backend.ts).
 */
import { ValidationError } from '../../common/errors';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';
import { FileVerdict, verifyAuditFile } from '../../domain/audit/audit-file-verify';
import { ChainTrust, chainStatus } from '../../domain/report/compile-report';
import { ChainStatus } from '../../domain/report/report-model';
import { CommandContext } from '../context';
import { trustedSigningKey } from './audit-trust';

export type { FileVerdict };

/** Most events `audit tail` prints: bounds what one read of the file holds in memory. */
export const MAX_TAIL_EVENTS = 10_000;

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

/**
 * The chain of exported or SIEM-forwarded lines; with `againstKeychain`,
 * every event is also compared with the local keychain file's (so only
 * without --server: over the wire there is no local file to compare with).
 */
export function verifyExportFile(ctx: CommandContext, lines: AsyncIterable<Buffer | string>, options: { againstKeychain: boolean }): Promise<FileVerdict> {
  if (!options.againstKeychain) return verifyAuditFile(lines);
  if (ctx.config().values.server_address) throw new ValidationError('--against-keychain reads the local keychain: run it without --server, on the appliance');
  return verifyAuditFile(lines, { against: ctx.open({ readonly: true }).store.audit });
}

/** The HSM's checkpoint signing public key (PEM) and its fingerprint. */
export async function signingPublicKey(ctx: CommandContext): Promise<{ publicKey: string; fingerprint: string }> {
  const appliance = ctx.open({ readonly: true });
  const pem = await (await appliance.hsm()).signingPublicKey();
  return { publicKey: pem, fingerprint: publicKeyFingerprint(pem) };
}

/** The latest `wanted` events of the local trail (at most MAX_TAIL_EVENTS), oldest first, each with its seq and hash. */
export function latestEvents(ctx: CommandContext, wanted: number): Array<Record<string, unknown>> {
  const audit = ctx.open({ readonly: true }).store.audit;
  const count = Math.min(Math.max(1, wanted), MAX_TAIL_EVENTS);
  const head = audit.auditHead();
  const records = head ? audit.readAuditRecords(Math.max(1, head.seq - count + 1), count) : [];
  return records.map((r) => ({ seq: r.seq, hash: r.hash.toString('hex'), ...(JSON.parse(r.event) as Record<string, unknown>) }));
}
