/**
 * `strongroom backup upload FILE [--name NAME]` (docs/backup.md §5.2): sends
 * a backup file this officer holds (from tape, off-site, another appliance)
 * into the appliance's backup_dir, so that `backup restore NAME` can name
 * it. BackupUpload, in chunks that each fit a frame: offset, the file's
 * total size, the bytes; the last chunk carries the SHA-256 the CLI read
 * here first. The appliance checks the hash, then verifies the file as a
 * backup (signature by its HSM's key or --signer-key's, hash, counts, audit
 * chain) before it puts it in place; anything else leaves nothing there.
 * Not dual-controlled: the upload changes nothing; restore is.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { runCommand } from '../context';
import { progressLine } from '../progress';
import { readSignerKey } from './backup-restore';

/** Bytes per BackupUpload: its base64 stays inside the default 1 MiB frame (as BackupRead's chunks). */
const CHUNK_BYTES = 512 * 1024;

interface UploadProgress {
  name: string;
  received: number;
  totalBytes: number;
  done: boolean;
  sha256?: string;
  manifest?: { keychainId: string; createdAt: string; unsealBinding: string };
}

function sha256Of(fd: number, bytes: number): string {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(CHUNK_BYTES);
  for (let offset = 0; offset < bytes; ) {
    const read = readSync(fd, chunk, 0, Math.min(chunk.length, bytes - offset), offset);
    if (read === 0) throw new ValidationError('the file got shorter while it was read: nothing was sent');
    hash.update(chunk.subarray(0, read));
    offset += read;
  }
  return hash.digest('hex');
}

export function backupUploadCommand(): Command {
  return new Command('upload')
    .description("send a backup file held here into the server's backup_dir, for backup restore (--server only)")
    .argument('<file>', 'the backup file (a .srbk from backup create --out, or another copy)')
    .option('--name <name>', "its name in backup_dir (default: FILE's own name): a plain file name ending .srbk, no '/', no '..', not of the form backup-TIME-HEX.srbk")
    .option('--signer-key <file>', "trust this signing key (PEM, from `strongroom audit public-key` on the appliance that made the backup) instead of this appliance's HSM's")
    .addHelpText(
      'after',
      `
The CLI reads FILE's SHA-256 here, then sends it in 512 KiB chunks
(BackupUpload). The appliance writes them to a dot-file in its backup_dir,
and at the end checks the SHA-256 and verifies the file as a backup
(signature by its HSM's key or --signer-key's, snapshot hash, counts, audit
chain); only then does it put the file in place under NAME, never over an
existing file. Refused at the end, with verify's codes: BACKUP_TAMPERED
(altered, or another SHA-256 than the one sent), BACKUP_TRUNCATED,
BACKUP_MALFORMED, BACKUP_FOREIGN_SIGNER; INTEGRITY_FAILURE when the file was
changed in backup_dir by something else before it was placed (exit 7). A
name that is not a plain
file name is INVALID_ARGUMENT (exit 2); a name already in backup_dir is
WRONG_STATE (exit 4). Files up to 2 GiB. An upload that sends nothing for
60 s is dropped and its partial file removed.

No approval is needed: the upload changes nothing. \`backup restore NAME\`
then puts it in place under dual control, verifying it again in full. An
officer's command; each chunk and the outcome are audited
(backup-uploaded: name, bytes, sha256).

Examples:
  $ strongroom --server 127.0.0.1:5700 backup upload /mnt/tape/keychain-2026-12-07.srbk
  $ strongroom --server 127.0.0.1:5700 backup restore keychain-2026-12-07.srbk`,
    )
    .action(
      runCommand(async (ctx, file: string, options: { name?: string; signerKey?: string }) => {
        const name = options.name ?? basename(file);
        const signerKey = options.signerKey === undefined ? undefined : readSignerKey(options.signerKey);
        let fd: number;
        try {
          fd = openSync(file, 'r');
        } catch (err) {
          throw new ValidationError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        }
        const requester = ctx.requester();
        const progress = progressLine('uploading backup', { json: ctx.out.json, unit: 'bytes' });
        let answer: UploadProgress | undefined;
        try {
          const totalBytes = fstatSync(fd).size;
          if (totalBytes === 0) throw new ValidationError(`${file} is empty: not a backup`);
          const sha256 = sha256Of(fd, totalBytes);
          const chunk = Buffer.alloc(CHUNK_BYTES);
          for (let offset = 0; offset < totalBytes; ) {
            const read = readSync(fd, chunk, 0, Math.min(chunk.length, totalBytes - offset), offset);
            if (read === 0) throw new ValidationError('the file got shorter while it was sent: start again');
            const last = offset + read === totalBytes;
            const args: Record<string, unknown> = { name, offset, totalBytes, data: chunk.subarray(0, read).toString('base64') };
            if (last) {
              args.sha256 = sha256;
              if (signerKey !== undefined) args.signerKey = signerKey;
            }
            answer = await requester.request<UploadProgress>('BackupUpload', args);
            offset += read;
            progress.update(offset, totalBytes);
          }
        } finally {
          progress.end();
          closeSync(fd);
        }
        const done = answer as UploadProgress;
        ctx.out.result(done, () =>
          [
            `Backup ${done.name} uploaded into backup_dir (${done.totalBytes} bytes, sha256 ${done.sha256}) and verified`,
            `  keychain ${done.manifest?.keychainId}, made ${done.manifest?.createdAt}${done.manifest?.unsealBinding === 'hsm+shares' ? ', custodian shares needed' : ''}`,
            `  restore it with: strongroom backup restore ${done.name}`,
          ].join('\n'),
        );
      }),
    );
}
