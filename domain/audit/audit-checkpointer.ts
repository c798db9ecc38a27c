/**
 * Signs the audit chain head with the HSM signing key at the server's start,
 * at intervals (audit_checkpoint_interval_ms) and once at shutdown, when the
 * head moved since the last checkpoint (domain/audit/audit-checkpoint.ts). One HSM
 * signature per interval, never per request. A checkpoint that cannot be
 * made (HSM unreachable) is logged and retried at the next interval: serving
 * goes on, the chain still protects every event, and `audit verify` reports
 * how many events the newest checkpoint does not cover.
 *
 * It never signs a trail it has not verified. The database file is
 * untrusted: someone who can write it can drop the append-only triggers,
 * delete events, re-hash the whole chain with the unkeyed SHA-256 and delete
 * the checkpoints that no longer match. Signing that head would give the
 * forgery the HSM's word. So the checkpointer keeps the last head it signed
 * (seq and hash) in memory — at start, the newest stored checkpoint, whose
 * HSM signature authenticates its seq and hash (checked before the first
 * signature) — and before each signature
 * verifies, page by page, that the stored chain still holds that head and
 * extends it to the new one. At start it also refuses a trail that records
 * a server start of an earlier run but holds no checkpoint: every run signs
 * one right after its start event, so their absence means they were deleted. On failure it
 * alarms (error log, and one `audit-integrity-failure` event) and refuses
 * every later checkpoint of this run: the trail's verdict must not improve
 * by itself.
 *
 * What this cannot catch: a trail rebuilt, every checkpoint and every server
 * start deleted, while no server runs, and served next by a fresh start,
 * looks like a trail no server ever signed; only the anchors an auditor
 * keeps (`audit verify --expect`) show it. Events after the newest
 * checkpoint are covered by the unkeyed chain only. A keyed chain is the
 * later step that closes both.
 */
import { Clock } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { Timer, Timers } from '../../common/timers';
import { checkpointSignatureValid, signCheckpoint } from './audit-checkpoint';
import { ExtensionVerdict, verifyExtension } from './audit-chain';
import { eventOfType } from './audit-event';
import { HsmPort } from '../../hsm/hsm-port';
import { AuditCheckpointRecord, AuditHead, AuditStore } from '../../storage/audit-store';
import { Logger } from '../../common/logger';

/** Why the checkpointer refuses to sign (names seqs and causes, never event contents). */
export interface TrailIntegrityFailure {
  readonly code: 'INTEGRITY_FAILURE';
  readonly firstBadSeq: number;
  readonly reason: string;
}

/** What a checkpoint's verification found: the extension's verdict, and the first earlier run's server start with no checkpoint (0: none). */
export interface HeadVerification {
  readonly verdict: ExtensionVerdict;
  readonly earlierRun: number;
}

/**
 * Verifies that the stored trail holds `signed` and extends it to `toSeq`,
 * and finds a server start at or below `unsignedRunsUpTo` (an earlier run's,
 * whose start checkpoint is gone).
 */
export type HeadVerifier = (signed: AuditHead | null, toSeq: number, unsignedRunsUpTo: number) => Promise<HeadVerification>;

/** The verification on the given store, on this thread (tests, the CLI; the server runs the same on a worker thread). */
export function verifyHead(audit: AuditStore, signed: AuditHead | null, toSeq: number, unsignedRunsUpTo: number): HeadVerification {
  let earlierRun = 0;
  const verdict = verifyExtension(audit, signed, toSeq, (record) => {
    if (earlierRun === 0 && record.seq <= unsignedRunsUpTo && eventOfType(record.event, 'server-start') !== null) earlierRun = record.seq;
  });
  return { verdict, earlierRun };
}

export interface CheckpointerOptions {
  readonly audit: AuditStore;
  readonly hsm: () => Promise<HsmPort>;
  readonly keychainId: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly intervalMs: number;
  readonly log: Logger;
  /** Records the alarm in the trail (awaited; its failure is logged, not thrown). Called once per run. */
  readonly onIntegrityFailure?: (failure: TrailIntegrityFailure) => Promise<void>;
  /**
   * Runs before each checkpoint: the full check of the keychain's
   * authenticated rows (domain/trust/trust-ledger.ts), so that rows written
   * back from an older copy are found at every checkpoint. It handles its own
   * failure (the trail itself is not at fault); a throw is logged.
   */
  readonly beforeCheckpoint?: () => Promise<void>;
  /**
   * Runs the verification before each signature. Default: verifyHead on
   * `audit`, on this thread. The server gives one that reads the file on a
   * worker thread: re-reading and re-hashing every event since the last
   * checkpoint cost the event loop a tenth of its time under load.
   */
  readonly verify?: HeadVerifier;
  /**
   * The cluster's audit signers (SPKI PEMs) from the keychain's authenticated
   * list (cluster-signers.ts), read when the newest stored checkpoint is not
   * this HSM's: another node's, accepted when its key is listed. Throws
   * SEALED while no list can be authenticated (the checkpoint waits for the
   * next interval) and INTEGRITY_FAILURE for a list the appliance did not
   * write. Default: no list (a single appliance).
   */
  readonly clusterSigners?: () => readonly string[];
}

export class AuditCheckpointer {
  private timer: Timer | null = null;
  private running: Promise<AuditCheckpointRecord | null> | null = null;
  private failures = 0;
  /** The last head this checkpointer signed or authenticated; undefined until loaded. */
  private lastSigned: AuditHead | null | undefined = undefined;
  /** With no checkpoint at load: server starts at or below this seq are earlier runs' (whose start checkpoints are gone). */
  private unsignedRunsUpTo = 0;
  private failure: TrailIntegrityFailure | null = null;
  /** The stored checkpoint taken at load, until its signature is checked with the HSM's key. */
  private storedUnverified: AuditCheckpointRecord | null = null;

  constructor(private readonly options: CheckpointerOptions) {}

  /** Takes the newest stored checkpoint as the last signed head: called before the server records its start. */
  open(): void {
    this.load();
  }

  start(): void {
    this.load();
    if (this.timer !== null) return;
    this.timer = this.options.timers.every(this.options.intervalMs, () => void this.checkpoint());
  }

  /** Checkpoints made fail in a row (for status). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Why this run refuses to sign, or null. */
  get integrityFailure(): TrailIntegrityFailure | null {
    return this.failure;
  }

  /** Signs the current head unless the newest checkpoint already covers it; resolves with the new checkpoint, or null. Never rejects. */
  checkpoint(): Promise<AuditCheckpointRecord | null> {
    this.running ??= this.signHead().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops the timer and makes a last checkpoint. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.checkpoint();
  }

  /** Reads the last signed head from storage, once: later reads of the file are checked against it, not trusted. */
  private load(): void {
    if (this.lastSigned !== undefined) return;
    const stored = this.options.audit.lastAuditCheckpoint();
    this.lastSigned = stored === null ? null : { seq: stored.seq, hash: Buffer.from(stored.hash) };
    this.unsignedRunsUpTo = stored === null ? this.options.audit.auditHead()?.seq ?? 0 : 0;
    this.storedUnverified = stored;
  }

  private async signHead(): Promise<AuditCheckpointRecord | null> {
    const { audit, log } = this.options;
    try {
      await this.options.beforeCheckpoint?.().catch((err: unknown) => log.error('keychain check before the checkpoint failed', { error: String(err) }));
      this.load();
      if (this.failure !== null) return this.refuse(this.failure);
      const head = audit.auditHead();
      const signed = this.lastSigned ?? null;
      const verify = this.options.verify ?? (async (from, toSeq, upTo) => verifyHead(audit, from, toSeq, upTo));
      const { verdict, earlierRun } = await verify(signed, head?.seq ?? 0, this.unsignedRunsUpTo);
      if (!verdict.ok) return this.refuse({ code: 'INTEGRITY_FAILURE', firstBadSeq: verdict.firstBadSeq!, reason: verdict.reason! });
      if (earlierRun !== 0) {
        return this.refuse({ code: 'INTEGRITY_FAILURE', firstBadSeq: earlierRun, reason: `the trail records a server start at event ${earlierRun} but holds no signed checkpoint, although every run signs one at start: the checkpoints were deleted and the trail may have been rebuilt` });
      }
      // The chain first (it names the event that changed), then the checkpoint rows.
      const changed = await this.checkpointsChanged(signed);
      if (changed !== null) return this.refuse(changed);
      this.unsignedRunsUpTo = 0;
      const verified = verdict.head;
      const covered = this.lastSigned ?? null;
      if (verified === null || (covered !== null && covered.seq >= verified.seq)) return null;
      const hsm = await this.options.hsm();
      if (this.storedUnverified !== null) {
        // The head taken from storage at load is trusted only once the HSM's key has checked its signature.
        const refusal = this.storedSignerRefusal(await hsm.signingPublicKey(), this.storedUnverified);
        if (refusal !== null) return this.refuse(refusal);
        this.storedUnverified = null;
      }
      const checkpoint = await signCheckpoint(hsm, this.options.keychainId, verified, this.options.clock);
      audit.appendAuditCheckpoint(checkpoint);
      this.lastSigned = { seq: checkpoint.seq, hash: Buffer.from(checkpoint.hash) };
      this.failures = 0;
      return checkpoint;
    } catch (err) {
      this.failures++;
      log.error('audit checkpoint not signed; retrying at the next interval', { error: String(err), failures: this.failures });
      return null;
    }
  }

  /** Null when `stored` carries this HSM's signature or a listed cluster signer's; else why it is refused. */
  private storedSignerRefusal(ownPem: string, stored: AuditCheckpointRecord): TrailIntegrityFailure | null {
    const { keychainId, clusterSigners } = this.options;
    if (checkpointSignatureValid(ownPem, keychainId, stored)) return null;
    let listed: readonly string[] = [];
    try {
      listed = clusterSigners?.() ?? [];
    } catch (err) {
      // A list the appliance did not write vouches for nothing; a sealed keychain only postpones the question.
      if (err instanceof KeychainError && err.code === 'INTEGRITY_FAILURE') return { code: 'INTEGRITY_FAILURE', firstBadSeq: stored.seq, reason: `the cluster's audit signer list failed authentication: ${err.message}` };
      throw err;
    }
    if (listed.some((pem) => checkpointSignatureValid(pem, keychainId, stored))) return null;
    const others = listed.length === 0 ? 'and no cluster signer is registered' : 'nor any registered cluster signer\'s';
    return { code: 'INTEGRITY_FAILURE', firstBadSeq: stored.seq, reason: `the newest checkpoint (event ${stored.seq}) does not carry this HSM's signature, ${others}: forged` };
  }

  /**
   * This run's last signed (or authenticated) checkpoint must still be stored
   * as it was. A newer one is another node's (a cluster, docs/cluster/join.md):
   * believed only when it carries a listed signer's signature over the chain
   * this run has just verified; it then becomes the head this run extends.
   */
  private async checkpointsChanged(signed: AuditHead | null): Promise<TrailIntegrityFailure | null> {
    if (signed === null) return null;
    const { audit } = this.options;
    const [own] = audit.readAuditCheckpoints(signed.seq, 1);
    if (own === undefined || own.seq !== signed.seq || !own.hash.equals(signed.hash)) {
      return { code: 'INTEGRITY_FAILURE', firstBadSeq: signed.seq, reason: `the checkpoint signed at event ${signed.seq} is no longer stored as signed: checkpoints were deleted or replaced` };
    }
    const newest = audit.lastAuditCheckpoint();
    if (newest === null || newest.seq === signed.seq) return null;
    const refusal = this.storedSignerRefusal(await (await this.options.hsm()).signingPublicKey(), newest);
    if (refusal !== null) return refusal;
    const [record] = audit.readAuditRecords(newest.seq, 1);
    if (record === undefined || record.seq !== newest.seq || !record.hash.equals(newest.hash)) {
      return { code: 'INTEGRITY_FAILURE', firstBadSeq: newest.seq, reason: `the checkpoint at event ${newest.seq} (signed ${newest.signedAt}) is not over the chain as stored: events up to it were rewritten` };
    }
    this.lastSigned = { seq: newest.seq, hash: Buffer.from(newest.hash) };
    return null;
  }

  /** Alarms (error log every time; the audit event once) and refuses to sign. */
  private async refuse(failure: TrailIntegrityFailure): Promise<null> {
    const first = this.failure === null;
    this.failure = failure;
    this.options.log.error('the audit trail is not intact: checkpoint refused, and refused for the rest of this run', { code: failure.code, firstBadSeq: failure.firstBadSeq, reason: failure.reason });
    if (first && this.options.onIntegrityFailure !== undefined) {
      await this.options.onIntegrityFailure(failure).catch((err: unknown) => this.options.log.error('audit integrity failure not recorded in the trail', { error: String(err) }));
    }
    return null;
  }
}
