/**
 * `strongroom backup create|verify|upload|restore` (docs/backup.md; upload: backup-upload.ts, restore: backup-restore.ts).
 *
 * create: the appliance makes a signed backup of its keychain into its
 * backup_dir (BackupCreate, through the dispatcher like every command:
 * over the wire with an officer's certificate, or in local mode as the local
 * operator; audited either way), then the CLI reads it out in chunks
 * (BackupRead) into --out and checks the copy's SHA-256 against the one the
 * server computed. Not dual-controlled: the backup holds no key material in
 * the clear (see operations/backup-operations.ts for why).
 *
 * verify: reads FILE on this machine and checks it against the signing key
 * this operator trusts (cli/offline/backup-verify.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, unlinkSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { StrongroomError } from '../../common/errors';
import { runCommand } from '../context';
import { assertOutFileWritable, openOutFile } from '../out-file';
import { progressLine } from '../progress';
import { whileServerWorks } from '../wait-line';
import { BackupVerdict, verifyBackupFile } from '../offline/backup-verify';
import { backupRestoreCommand } from './backup-restore';
import { backupListCommand } from './backup-list';
import { backupUploadCommand } from './backup-upload';

/** Bytes per BackupRead: the most the operation returns (its base64 stays inside a 1 MiB frame). */
const CHUNK_BYTES = 512 * 1024;

interface BackupManifestView {
  keychainId: string;
  createdAt: string;
  schemaVersion: number;
  masterKeyVersions: number[];
  unsealBinding: string;
  counts: Record<string, number>;
  auditHead: { seq: number; hash: string } | null;
  lastCheckpoint: { seq: number } | null;
  trustCounter: number | null;
}

interface MadeBackup {
  name: string;
  bytes: number;
  sha256: string;
  manifest: BackupManifestView;
}

function describe(manifest: BackupManifestView): string[] {
  const c = manifest.counts;
  return [
    `  keychain ${manifest.keychainId} (schema ${manifest.schemaVersion}, master key ${manifest.masterKeyVersions.map((v) => `v${v}`).join(', ')}${manifest.unsealBinding === 'hsm+shares' ? ', custodian shares needed' : ''}), made ${manifest.createdAt}`,
    `  ${c.keys} key(s), ${c.instances} instance(s) (${c.sealedInstances} with sealed material), ${c.clients} client(s), ${c.grants} grant(s), ${c.quorums} quorum(s), ${c.approvals} approval request(s)`,
    `  audit trail: ${c.auditEvents} event(s), head ${manifest.auditHead === null ? '-' : `${manifest.auditHead.seq}:${manifest.auditHead.hash}`}, newest checkpoint ${manifest.lastCheckpoint?.seq ?? '-'}`,
  ];
}

function renderVerdict(file: string, verdict: BackupVerdict): string {
  const instances = verdict.instances.checked ? `every instance opens (${verdict.instances.opened})` : `instances not opened: ${verdict.instances.reason}`;
  return [
    `Backup ${file} is intact: signed by ${verdict.signer.fingerprint} (trusted from ${verdict.signer.source}); ${instances}`,
    ...describe(verdict.manifest as unknown as BackupManifestView),
    `  audit chain verified: ${verdict.chain.events} event(s), ${verdict.chain.checkpoints} checkpoint(s), ${verdict.chain.unsignedTail} after the newest`,
  ].join('\n');
}

export function backupCommand(): Command {
  const group = new Command('backup').description('signed backups of the keychain: make one, list them, check one, send one to the appliance, restore one');
  group.addCommand(
    new Command('create')
      .description('have the appliance make a signed backup of its keychain, and copy it to --out')
      .requiredOption('--out <file>', 'where to write the backup (mode 0600; a symbolic link is refused)')
      .addHelpText(
        'after',
        `
The appliance takes a consistent snapshot of its keychain while it keeps
serving, writes it with a manifest signed by its HSM signing key into its
backup_dir, and the CLI copies it to --out and checks the copy's SHA-256.
The backup holds no key material in the clear: it opens only with the HSM
that holds the master key (and the custodians' shares, for a share-bound
keychain). An officer's command, over the wire or in local mode; audited.
On a terminal, a line shows the time elapsed while the appliance makes it,
then a progress bar the copy (neither with --json).

Examples:
  $ strongroom backup create --out keychain-2026-12-07.srbk
  $ strongroom --server 127.0.0.1:5700 backup create --out /backups/keychain.srbk --json`,
      )
      .action(
        runCommand(async (ctx, options: { out: string }) => {
          // Before the request: a backup the server made stays in its backup_dir whatever happens to the copy.
          assertOutFileWritable(options.out);
          const requester = ctx.requester();
          const made = await whileServerWorks('the appliance is snapshotting, checking and signing the backup', ctx.out, () =>
            requester.request<MadeBackup>('BackupCreate'),
          );
          const fd = openOutFile(options.out);
          const hash = createHash('sha256');
          const progress = progressLine('copying backup', { json: ctx.out.json, unit: 'bytes' });
          let copied = 0;
          try {
            while (copied < made.bytes) {
              const chunk = await requester.request<{ data: string }>('BackupRead', { name: made.name, offset: copied, length: Math.min(CHUNK_BYTES, made.bytes - copied) });
              const data = Buffer.from(chunk.data, 'base64');
              if (data.length === 0) throw new StrongroomError('BACKUP_TRUNCATED', `the server's backup ${made.name} ended at ${copied} of ${made.bytes} bytes`);
              writeSync(fd, data);
              hash.update(data);
              copied += data.length;
              progress.update(copied, made.bytes);
            }
          } catch (err) {
            closeSync(fd);
            unlinkSync(options.out);
            throw err;
          } finally {
            progress.end();
          }
          closeSync(fd);
          const sha256 = hash.digest('hex');
          if (sha256 !== made.sha256) {
            unlinkSync(options.out);
            throw new StrongroomError('BACKUP_TAMPERED', `the copy of ${made.name} does not have the SHA-256 the server computed: it was altered in transit or on the server's disk; nothing was kept`);
          }
          ctx.out.result({ name: made.name, out: options.out, bytes: made.bytes, sha256, manifest: made.manifest }, () =>
            [`Backup ${made.name} written to ${options.out} (${made.bytes} bytes, sha256 ${sha256})`, ...describe(made.manifest)].join('\n'),
          );
        }),
      ),
  );
  group.addCommand(
    new Command('verify')
      .description('check a backup file: signature, signer, snapshot hash, counts, audit chain, and that every instance opens')
      .argument('<file>', 'the backup file')
      .option('--public-key <file>', 'the signing key to trust (from `strongroom audit public-key`); default: ask the HSM')
      .option('--no-hsm', 'do not open the HSM: check with --public-key only, and open no instance')
      .addHelpText(
        'after',
        `
Always runs on this machine (it reads FILE here; --server is not used).
The signing key trusted is --public-key, else the HSM's own. When the HSM
of this data folder's configuration holds the master key, every instance's
sealed material is opened (and zeroed at once); a share-bound keychain's
instances need the custodians, and are reported not opened.

Failures, each with its own code (exit 7): BACKUP_MALFORMED (not a backup,
or an unknown format version), BACKUP_TRUNCATED (cut short),
BACKUP_TAMPERED (signature, hash or counts do not match),
BACKUP_FOREIGN_SIGNER (signed by another appliance's key), INTEGRITY_FAILURE
(the trail inside does not chain, or an instance does not open).

Examples:
  $ strongroom backup verify keychain-2026-12-07.srbk
  $ strongroom backup verify keychain.srbk --public-key signing-key.pem --no-hsm --json`,
      )
      .action(
        runCommand(async (ctx, file: string, options: { publicKey?: string; hsm: boolean }) => {
          const progress = progressLine('opening instances', { json: ctx.out.json });
          let verdict: BackupVerdict;
          try {
            verdict = await verifyBackupFile(ctx.config, { file, publicKeyFile: options.publicKey, useHsm: options.hsm, onProgress: (step, done, total) => step === 'instances' && progress.update(done, total) }, ctx.out.warn);
          } finally {
            progress.end();
          }
          ctx.out.result({ ...verdict, file }, () => renderVerdict(file, verdict));
        }),
      ),
  );
  group.addCommand(backupListCommand());
  group.addCommand(backupUploadCommand());
  group.addCommand(backupRestoreCommand());
  return group;
}
