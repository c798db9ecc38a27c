/**
 * BackupUpload (docs/protocol.md §6, docs/backup.md §5.2): one chunk of a
 * backup file an officer holds, sent into backup_dir so that `backup
 * restore` can name it (domain/backup/backup-upload.ts). Officers only;
 * each chunk is audited by the dispatcher, and the end of an upload (or its
 * refusal) is a `backup-uploaded` event with its name, size and SHA-256.
 *
 * Why no approval: an uploaded file changes nothing the appliance serves.
 * Putting it in place is `BackupRestore`, dual-controlled, which verifies
 * the file again in full (every instance opened) before a request is stored.
 */
import { ProtocolError } from '../protocol/protocol-error';
import { Operation } from './operation';

export const backupUpload: Operation<'BackupUpload'> = {
  name: 'BackupUpload',
  access: 'officer',
  batchable: false,
  run: (args, ctx) => {
    const uploads = ctx.services.backups?.upload;
    if (!uploads) throw new ProtocolError('INVALID_REQUEST', 'this server does not take backup uploads');
    return uploads(ctx.identity, args);
  },
};
