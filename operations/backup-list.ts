/**
 * BackupList (docs/protocol.md §6, docs/backup.md §2.1): what backup_dir
 * holds, newest first, so that an officer finds the NAME `backup restore`
 * takes without a shell on the appliance. Officers and auditors (`audit`
 * access: an auditor checks that backups are being made); apps are refused.
 * A read: the dispatcher audits it like every call, and it changes nothing.
 * Each backup's manifest is read and its signature checked, the snapshot is
 * not opened (domain/backup/backup-list.ts).
 */
import { ProtocolError } from '../protocol/protocol-error';
import { Operation } from './operation';

export const backupList: Operation<'BackupList'> = {
  name: 'BackupList',
  access: 'audit',
  // One call reads up to MAX_BACKUPS_LISTED headers: one is enough per request.
  batchable: false,
  run: (_args, ctx) => {
    const service = ctx.services.backups;
    if (!service) throw new ProtocolError('INVALID_REQUEST', 'this server does not make backups');
    return service.list();
  },
};
