/**
 * `strongroom backup list` (docs/backup.md §2.1): what the appliance's
 * backup_dir holds, newest first (BackupList, officers and auditors; over
 * the wire or in local mode), so that the NAME `backup restore` takes is
 * found without a shell on the appliance. Each backup is described from its
 * signed manifest (only its header is read: `backup verify` checks the
 * rest); one whose header or signature does not check is shown with its
 * error code, not hidden.
 */
import { Command } from 'commander';
import { runCommand } from '../context';
import { table } from '../output';

/** BackupList's answer (docs/protocol.md §6). */
export interface BackupListing {
  backups: Array<{
    name: string;
    bytes: number;
    madeAt: string;
    modifiedAt: string;
    manifest: {
      keychainId: string;
      trigger: 'schedule' | 'request' | 'unknown';
      auditHeadSeq: number;
      trustCounter: number | null;
      masterKeyVersions: number[];
      sealedInstances: number;
      signerFingerprint: string;
      signedHere: boolean;
    } | null;
    error: { code: string; message: string } | null;
  }>;
  total: number;
  otherFiles: number;
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

const BY: Record<string, string> = { schedule: 'schedule', request: 'officer', unknown: '?' };

/** The human form: a table, then one line per damaged file and what the folder holds beyond the list. */
export function listingText(listing: BackupListing): string {
  if (listing.backups.length === 0) return listing.otherFiles > 0 ? `No backups in backup_dir (${listing.otherFiles} other file(s) there, not named as the server names backups).` : 'No backups in backup_dir yet: make one with `strongroom backup create --out FILE`, or set backup_schedule.';
  const rows = listing.backups.map((b) => {
    const m = b.manifest;
    if (m === null) return [b.name, b.madeAt.replace('.000Z', 'Z'), size(b.bytes), '-', '-', '-', '-', '-', `UNREADABLE: ${b.error?.code ?? '?'}`];
    return [
      b.name,
      b.madeAt.replace('.000Z', 'Z'),
      size(b.bytes),
      BY[m.trigger] ?? '?',
      m.keychainId,
      String(m.auditHeadSeq),
      m.trustCounter === null ? '-' : String(m.trustCounter),
      m.masterKeyVersions.map((v) => `v${v}`).join(',') || '-',
      m.signedHere ? 'this appliance' : `OTHER ${m.signerFingerprint.slice(0, 11)}…`,
    ];
  });
  const lines = [table(['NAME', 'MADE (UTC)', 'SIZE', 'BY', 'KEYCHAIN', 'AUDIT HEAD', 'TRUST', 'MASTER KEY', 'SIGNED BY'], rows)];
  for (const b of listing.backups) if (b.error !== null) lines.push(`${b.name}: [${b.error.code}] ${b.error.message}`);
  if (listing.total > listing.backups.length) lines.push(`The ${listing.backups.length} newest of ${listing.total} backups are listed.`);
  if (listing.otherFiles > 0) lines.push(`${listing.otherFiles} other file(s) in backup_dir are not named as the server names backups: restore and retention ignore them.`);
  return lines.join('\n');
}

export function backupListCommand(): Command {
  return new Command('list')
    .description("list the backups in the appliance's backup_dir, newest first: the names backup restore takes")
    .addHelpText(
      'after',
      `
For each backup: its name, when it was made, its size, who had it made
(the schedule, an officer, or ? for a backup made before that was
recorded), and from its signed manifest the keychain, audit head, trust
counter and master-key versions it holds, and whether this appliance's
signing key signed it (OTHER: another appliance's; restore it with
--signer-key). Only each file's header is read and its manifest's
signature checked: run backup verify on a copy for the full check. A file
whose header or signature does not check is listed UNREADABLE with its
error code (BACKUP_TAMPERED, BACKUP_TRUNCATED, BACKUP_MALFORMED), not
hidden. Officers and auditors; audited as a read.

--json prints {backups: [{name, bytes, madeAt, modifiedAt, manifest:
{keychainId, createdAt, trigger, auditHeadSeq, trustCounter,
masterKeyVersions, unsealBinding, sealedInstances, signerFingerprint,
signedHere} | null, error: {code, message} | null}], total, otherFiles}.

Examples:
  $ strongroom --server 127.0.0.1:5700 backup list
  $ strongroom backup list --json`,
    )
    .action(
      runCommand(async (ctx) => {
        const listing = await ctx.requester().request<BackupListing>('BackupList');
        ctx.out.result(listing, () => listingText(listing));
      }),
    );
}
