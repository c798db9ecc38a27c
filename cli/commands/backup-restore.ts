/**
 * `strongroom backup restore NAME` (docs/backup.md §5): asks the appliance
 * to replace its keychain with backup NAME from its backup_dir
 * (BackupRestore). Dual-controlled (class backup-restore): the request is
 * verified in full by the appliance, then waits for other officers (exit
 * 12, APPROVAL_REQUIRED, with the request id and digest they approve).
 * Local mode refuses it (DUAL_CONTROL_LOCAL_MODE) like every dual-controlled
 * command: restore needs officers with certificates.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { Requester } from '../../protocol/requester';
import { runCommand } from '../context';
import { waitLineShown, whileServerWorks } from '../wait-line';
import type { BackupListing } from './backup-list';

interface RestoreTarget {
  sha256: string;
  keychainId: string;
  auditHeadSeq: number;
  trustCounter: number;
  signerFingerprint: string;
  signedHere: boolean;
  older: boolean;
  sameKeychain: boolean;
}

export function readSignerKey(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(`--signer-key ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new ValidationError(`--signer-key ${file} is not a PEM public key (strongroom audit public-key writes one)`);
  return pem;
}

/**
 * What the wait line says while the appliance verifies the backup before it
 * stores the request: with the number of instances it opens one by one, the
 * longest step, when `backup list` told it (null: not learnt).
 */
export function restoreWaitLabel(name: string, listing: BackupListing | null): string {
  const manifest = listing?.backups.find((b) => b.name === name)?.manifest;
  if (manifest) return `the appliance is verifying ${name}, opening ${manifest.sealedInstances} instance(s)`;
  return `the appliance is verifying ${name} in full`;
}

/** BackupList, for the wait line's count only: an appliance without it (an older one) or a failure leaves the count out. */
async function listingForLabel(requester: Requester): Promise<BackupListing | null> {
  try {
    return await requester.request<BackupListing>('BackupList');
  } catch {
    return null;
  }
}

export function backupRestoreCommand(): Command {
  return new Command('restore')
    .description('replace the keychain with a backup from the server\'s backup_dir (dual-controlled; --server only)')
    .argument('<name>', 'the backup\'s name in backup_dir, not a path (backup create prints it; status --server names the last scheduled one), e.g. backup-20261207T081500Z-1a2b3c4d.srbk')
    .option('--older', 'restore it even though it is older than the keychain\'s signed state (rolls the keychain back; audited as older)')
    .option('--signer-key <file>', 'trust this signing key (PEM, from `strongroom audit public-key` on the appliance that made the backup) instead of this HSM\'s')
    .addHelpText(
      'after',
      `
The appliance verifies the backup in full first (signature, signer, hash,
counts, audit chain, trust state, every instance opened with its HSM), then
stores a request that other officers approve: it exits 12 (APPROVAL_REQUIRED)
with the request id; \`approvals show ID\` shows the file's SHA-256, keychain,
audit head and trust counter being approved. When the quorum is met, the
file is hashed and verified again (another file: APPROVAL_TARGET_CHANGED),
staged beside the keychain, and the appliance seals (SEALED) and restarts
onto the restored keychain (\`strongroom serve\` reopens in-process; the
replaced keychain is kept as keychain.db.pre-restore-TIME-ID). A crash at any
point leaves one of the two keychains whole. On a terminal, a line shows
the instances the appliance opens to verify it and the time elapsed.

A share-bound keychain (init --shares) is restored only while it is
unsealed, from a backup bound to the same custodians' shares (else
BACKUP_SHARES_MISMATCH, exit 4): the restored appliance comes up sealed, and
threshold custodians unseal it with the shares they hold now.

Only files in the appliance's backup_dir are restored (default: backups in
its data folder): a copy kept elsewhere (backup create --out, a tape) is
first sent there with \`strongroom backup upload FILE\`.

Refusals, each before anything changes: BACKUP_TAMPERED, BACKUP_TRUNCATED,
BACKUP_MALFORMED (exit 7), BACKUP_FOREIGN_SIGNER (exit 7: another appliance's
backup without --signer-key), MASTER_KEY_MISMATCH (exit 6: this HSM does not
hold its master key), BACKUP_OLDER_THAN_CURRENT (exit 4: without --older),
BACKUP_SHARES_MISMATCH (exit 4: bound to another share set), BACKUP_NOT_FOUND
(exit 3). Local mode: DUAL_CONTROL_LOCAL_MODE.

Examples:
  $ strongroom --server 127.0.0.1:5700 backup restore backup-20261207T081500Z-1a2b3c4d.srbk
  $ strongroom --server 127.0.0.1:5700 approvals show <request-id>         # another officer
  $ strongroom --server 127.0.0.1:5700 backup restore backup-20261101T000000Z-0badc0de.srbk --older --json`,
    )
    .action(
      runCommand(async (ctx, name: string, options: { older?: boolean; signerKey?: string }) => {
        const args: Record<string, unknown> = { name };
        if (options.older) args.allowOlder = true;
        if (options.signerKey !== undefined) args.signerKey = readSignerKey(options.signerKey);
        const requester = ctx.requester();
        // Learnt only when a person watches: scripts (--json, no terminal) send the one request.
        const label = restoreWaitLabel(name, waitLineShown(ctx.out) ? await listingForLabel(requester) : null);
        const target = await whileServerWorks(label, ctx.out, () => requester.request<RestoreTarget>('BackupRestore', args));
        ctx.out.result(target, () =>
          [
            `Restore of ${name} staged (sha256 ${target.sha256}): the appliance restarts onto keychain ${target.keychainId}`,
            `  audit head ${target.auditHeadSeq}, trust counter ${target.trustCounter}, signed by ${target.signerFingerprint}${target.signedHere ? " (this appliance's key)" : " (another appliance's key, named by --signer-key)"}${target.older ? ', OLDER than the replaced keychain (chosen)' : ''}`,
          ].join('\n'),
        );
      }),
    );
}
