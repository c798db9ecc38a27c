/**
 * `backup restore` on the running appliance (docs/backup.md §5): the checks
 * before a request is stored, the same checks again when officers approved
 * it, the staging of the verified file, and the hand-over to the swap at
 * the next open (restore-swap.ts).
 *
 * The running server never swaps its own file: every part of it (the
 * keychain's store connection, the audit worker's connection, the caches,
 * the checkpointer's last signed head, the scheduler, the open client
 * connections) holds state of the keychain it opened. So the restorer
 * stages the restored file, seals the appliance until it restarts (nothing
 * more can change in the file being replaced), records the intent, and asks
 * for a restart (`strongroom serve` restarts in-process); the swap then
 * happens with nothing open, by the same code that finishes an intent a
 * crash left.
 *
 * A share-bound keychain's backup is opened with the keychain keys its
 * custodians unsealed, lent by the running keychain (share-bound-keys.ts):
 * the restored file keeps its share-bound rows, so it comes up sealed and
 * opens with the same custodians' shares.
 */
import { closeSync, constants as fsConstants, fstatSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { Clock, isoNow } from '../../common/clock';
import { ApprovalError, KeychainError, StrongroomError, ValidationError } from '../../common/errors';
import { Logger } from '../../common/logger';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { publicKeyFingerprint } from '../audit/audit-checkpoint';
import { AuditEvent, EventStamper } from '../audit/audit-event';
import { Keychain } from '../keychain';
import { ClientIdentity } from '../policy/identity';
import { readFreshnessAnchor } from '../trust/freshness-anchor';
import { unsealAuditEvent } from '../unseal/unseal-audit';
import { BACKUP_NAME_PATTERN, UPLOAD_NAME_PATTERN } from '../vocabulary/backup-limits';
import { backupError } from './backup-file';
import { BackupVerdict, verifyBackup } from './backup-verify';
import { planRestore, RestorePlan } from './restore-preflight';
import { checkStagedRows, extractStaged, sealStaged } from './restore-staging';
import { LentKeychainKeys } from './share-bound-keys';
import { stagedPathFor, writeRestoreIntent } from './restore-swap';
import { workFileName } from './backup-writer-files';

export interface RestoreRequest {
  readonly name: string;
  readonly allowOlder?: boolean;
  readonly signerKey?: string;
  readonly sha256?: string;
}

/** What approvers see and approve (the stored request's `target`), and what the restore answers. */
export interface RestoreTarget {
  readonly sha256: string;
  readonly keychainId: string;
  readonly auditHeadSeq: number;
  readonly trustCounter: number;
  readonly signerFingerprint: string;
  /** The backup is signed by this appliance's own HSM key; false: by the key the request names (`signerKey`), which approvers must recognise. */
  readonly signedHere: boolean;
  readonly createdAt: string;
  readonly sameKeychain: boolean;
  readonly older: boolean;
  readonly instances: number;
}

export interface BackupRestorerOptions {
  readonly keychainPath: string;
  readonly backupDir: string;
  readonly hsm: () => Promise<HsmPort>;
  readonly store: KeychainStore;
  readonly keychain: Keychain;
  readonly clock: Clock;
  readonly stamper: EventStamper;
  /** Records an event in the running trail, resolving once durable. */
  readonly record: (event: AuditEvent) => Promise<void>;
  /** Waits until every event recorded so far is durable. */
  readonly drain: () => Promise<void>;
  readonly log: Logger;
  /** The restore is staged and its intent recorded: the appliance must restart to open it. */
  readonly onStaged: (outcome: { readonly name: string; readonly keptAs: string }) => void;
}

export class BackupRestorer {
  private busy = false;

  constructor(private readonly options: BackupRestorerOptions) {}

  /** Before a request is stored: the file verified in full, with this HSM, and the plan; what approvers see. */
  async prepare(request: RestoreRequest): Promise<RestoreTarget> {
    const path = this.pathOf(request.name);
    // One private copy is hashed and verified: backup_dir is untrusted, and a file read twice by name can be swapped between the hash and the verification (test/security/33).
    // In backup_dir (as verify's snapshot), not beside the keychain: a huge planted file must not fill the keychain's file system on one officer's
    // request; not in the system temp folder either, where a killed appliance left it for good: named after this process, it is removed by
    // the killed-writer clean-up (backup-writer-files.ts) at the next start, backup, upload or restore.
    mkdirSync(this.options.backupDir, { recursive: true, mode: 0o700 });
    const copy = join(this.options.backupDir, workFileName('restore-request'));
    const lent = this.lend();
    try {
      const sha256 = privateCopy(path, copy, () => new StrongroomError('BACKUP_NOT_FOUND', `no backup named ${request.name} in the backup folder`, { details: { name: request.name } }));
      if (request.sha256 !== undefined && request.sha256 !== sha256) throw changed(request.name, 'the file is not the one whose SHA-256 the request names');
      const { verdict, plan, signedHere } = await this.check(copy, request, lent);
      return targetOf(sha256, verdict, plan, signedHere);
    } finally {
      lent.wipe();
      removeQuietly(copy);
    }
  }

  /**
   * An approved request: a private copy of the file is hashed (it must be
   * the approved file: APPROVAL_TARGET_CHANGED), verified in full again and
   * staged; then (after the approval's own change is recorded) applied.
   */
  async execute(request: RestoreRequest, requester: ClientIdentity | null, requestId: string | null): Promise<RestoreTarget> {
    if (request.sha256 === undefined) throw changed(request.name, 'the stored request names no file hash');
    if (this.busy) throw new KeychainError('WRONG_STATE', 'a restore is already being applied');
    const path = this.pathOf(request.name);
    const id = randomBytes(8).toString('hex');
    const staged = stagedPathFor(this.options.keychainPath, id);
    const copy = `${staged}.srbk`;
    // Taken now, while unsealed: apply() seals the keychain before it stages the file with them.
    const lent = this.lend();
    this.busy = true;
    try {
      if (privateCopy(path, copy, () => changed(request.name, 'the backup file is gone')) !== request.sha256) throw changed(request.name, 'the file is not the one approved (its SHA-256 differs)');
      const { verdict, plan, signedHere } = await this.check(copy, request, lent);
      extractStaged(copy, staged);
      removeQuietly(copy);
      // Verify checks the set of row MACs; here each row against its own, before anything is swapped.
      await checkStagedRows(staged, await this.options.hsm(), lent.source);
      const target = targetOf(request.sha256, verdict, plan, signedHere);
      // After the approval's own change (executing → executed) is committed in the keychain being replaced: it runs in this promise's continuation.
      setImmediate(() => void this.apply(staged, id, request, target, plan, requester, requestId, lent).finally(() => lent.wipe()));
      return target;
    } catch (err) {
      lent.wipe();
      this.busy = false;
      removeQuietly(copy);
      removeQuietly(staged);
      throw err;
    }
  }

  private async apply(
    staged: string,
    id: string,
    request: RestoreRequest,
    target: RestoreTarget,
    plan: RestorePlan,
    requester: ClientIdentity | null,
    requestId: string | null,
    lent: LentKeychainKeys,
  ): Promise<void> {
    const { keychain, store, stamper, log } = this.options;
    // The restore's own id in the name too: two restores within one second (or a clock set back) must not pick the
    // name of a kept file, which the swap refuses to overwrite (test/server/backup/restore-same-second.test.ts).
    const keptAs = `${this.options.keychainPath}.pre-restore-${isoNow(this.options.clock).replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${id}`;
    try {
      await this.options.drain();
      // From here nothing changes in the keychain being replaced: every request is answered SEALED until the restart.
      keychain.sealUntilRestart('a backup restore is being applied: the appliance opens the restored keychain when it restarts');
      const hsm = await this.options.hsm();
      const replacedHead = store.audit.auditHead();
      const replacedCounter = store.trust?.getTrustState()?.counter ?? 0;
      const anchor = (await readFreshnessAnchor(hsm, target.keychainId)) ?? 0;
      // Above the backup, the token and the file it replaces: the kept old file becomes the older copy unseal refuses.
      const counter = Math.max(plan.nextTrustCounter, anchor + 1, plan.sameKeychain ? replacedCounter + 1 : 0);
      const custom = (restored: { seq: number; hash: string }): Record<string, string> => ({
        name: request.name,
        sha256: target.sha256,
        older: String(target.older),
        requestId: requestId ?? '',
        replacedKeychainId: store.getMeta()?.keychainId ?? '',
        replacedHeadSeq: String(replacedHead?.seq ?? 0),
        replacedHeadHash: replacedHead?.hash.toString('hex') ?? '',
        replacedCounter: String(replacedCounter),
        restoredHeadSeq: String(restored.seq),
        restoredHeadHash: restored.hash,
        backupCounter: String(target.trustCounter),
        restoredCounter: String(counter),
        keptAs,
        // The key that signed the backup and the checkpoints of the trail in it: a restore onto another
        // appliance hands the trail over from that key to this one (domain/audit/signer-handover.ts).
        signerFingerprint: target.signerFingerprint,
      });
      let recorded: Record<string, string> = {};
      const sealed = await sealStaged(staged, hsm, counter, (restored) => {
        recorded = custom(restored);
        return unsealAuditEvent(stamper, 'backup-restored', requester, 'ok', recorded);
      }, lent.source);
      writeRestoreIntent(this.options.keychainPath, { version: 1, staged, stagedSha256: sealed.sha256, keptAs, backup: request.name, at: isoNow(this.options.clock) });
      // The trail being replaced (kept in the old file, and at the SIEMs) says so too.
      await this.options.record(unsealAuditEvent(stamper, 'backup-restored', requester, 'ok', { ...recorded, stage: 'staged' })).catch(() => undefined);
      log.info('backup restore staged: the appliance restarts to open the restored keychain', { name: request.name, keptAs });
      this.options.onStaged({ name: request.name, keptAs });
    } catch (err) {
      removeQuietly(staged);
      this.busy = false;
      const code = err instanceof StrongroomError ? err.code : 'INTERNAL_ERROR';
      log.error('backup restore failed before its intent was recorded: the current keychain stays', { name: request.name, error: String(err) });
      keychain.releaseSealHold();
      // A share-bound keychain stays sealed: it unseals again only with its custodians' shares.
      if (store.getUnsealPolicy() === null) await keychain.unseal(await this.options.hsm()).catch((e: unknown) => log.error('could not unseal again after a failed restore', { error: String(e) }));
      await this.options.record(unsealAuditEvent(stamper, 'backup-restored', requester, code, { name: request.name, requestId: requestId ?? '' })).catch(() => undefined);
    }
  }

  /** The running keychain's keys, lent to open a backup of it (copied on first use, by a share-bound backup only). */
  private lend(): LentKeychainKeys {
    return new LentKeychainKeys(() => this.options.keychain.copyKeychainKeys(), this.options.store);
  }

  private pathOf(name: string): string {
    // The appliance's own names, or a name `backup upload` took (a plain file name: no folder, no `..`).
    if (!BACKUP_NAME_PATTERN.test(name) && !(UPLOAD_NAME_PATTERN.test(name) && !name.includes('..'))) {
      // The usual mistake is a path to a copy (backup create --out): restore reads only the appliance's own folder.
      throw new ValidationError(
        `${JSON.stringify(name.slice(0, 120))} is not a backup name: restore takes the name of a file in the appliance's backup_dir (like backup-20261207T081500Z-1a2b3c4d.srbk, as backup create prints it), not a path; to restore a copy kept elsewhere, send it first: strongroom backup upload FILE`,
        { details: { field: 'name' } },
      );
    }
    return join(this.options.backupDir, name);
  }

  /** §3 in full with this HSM (instances opened, trust checked), then the preflight's freshness decision. */
  private async check(path: string, request: RestoreRequest, lent: LentKeychainKeys): Promise<{ verdict: BackupVerdict; plan: RestorePlan; signedHere: boolean }> {
    const hsm = await this.options.hsm();
    const ownKey = await hsm.signingPublicKey();
    const trustedSigner = request.signerKey ?? ownKey;
    const verdict = await verifyBackup(path, { trustedSigner, signerSource: request.signerKey === undefined ? 'hsm' : 'request', hsm, keychainKeys: lent.source, workDir: this.options.backupDir });
    const { store } = this.options;
    const plan = planRestore(
      verdict,
      {
        keychainId: store.getMeta()?.keychainId ?? null,
        lastCheckpointSeq: store.audit.lastAuditCheckpoint()?.seq ?? null,
        anchorForBackup: await readFreshnessAnchor(hsm, verdict.manifest.keychainId),
      },
      request.allowOlder === true,
    );
    return { verdict, plan, signedHere: publicKeyFingerprint(verdict.manifest.signer) === publicKeyFingerprint(ownKey) };
  }
}

function targetOf(sha256: string, verdict: BackupVerdict, plan: RestorePlan, signedHere: boolean): RestoreTarget {
  const { manifest } = verdict;
  return {
    sha256,
    keychainId: manifest.keychainId,
    auditHeadSeq: manifest.auditHead?.seq ?? 0,
    trustCounter: manifest.trustCounter ?? 0,
    signerFingerprint: publicKeyFingerprint(manifest.signer),
    signedHere,
    createdAt: manifest.createdAt,
    sameKeychain: plan.sameKeychain,
    older: plan.older,
    instances: verdict.instances.checked ? verdict.instances.opened : 0,
  };
}

function changed(name: string, why: string): ApprovalError {
  return new ApprovalError('APPROVAL_TARGET_CHANGED', `backup ${name}: ${why}; nothing was restored: make the request again`, { details: { name } });
}

/**
 * Copies a backup to a private file (created exclusively, 0600) and returns
 * the copy's SHA-256, read in the same pass: what is hashed is what is
 * verified. The source is opened non-blocking and must be a regular file:
 * a FIFO or device planted under a backup's name in backup_dir would
 * otherwise block the server's event loop in open() or never end
 * (test/security/36).
 */
function privateCopy(path: string, copy: string, missing: () => Error): string {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missing();
    throw err;
  }
  try {
    if (!fstatSync(fd).isFile()) throw backupError('BACKUP_MALFORMED', `${basename(path)} is not a regular file: a backup is one; nothing was read`);
    const out = openSync(copy, 'wx', 0o600);
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(1024 * 1024);
    try {
      for (let read = readSync(fd, chunk, 0, chunk.length, null); read > 0; read = readSync(fd, chunk, 0, chunk.length, null)) {
        hash.update(chunk.subarray(0, read));
        writeSync(out, chunk, 0, read);
      }
    } finally {
      closeSync(out);
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}
