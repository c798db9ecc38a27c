/**
 * BackupRestore (docs/protocol.md §6, docs/backup.md §5): replaces the
 * keychain with a verified backup from backup_dir. Dual-controlled, class
 * `backup-restore`: no single officer can put an old keychain back (with
 * its revoked clients, destroyed keys or lost grants).
 *
 * Before the request is stored, the backup is verified in full with this
 * HSM (signature, hash, counts, chain, trust state, every instance opened)
 * and checked for freshness (BACKUP_OLDER_THAN_CURRENT unless allowOlder):
 * a tampered, foreign-signed, foreign-HSM or unchosen older backup never
 * reaches the quorum. What approvers approve is stored with the request:
 * the file's SHA-256 (`sha256`, which pins the file) and `target` (keychain
 * id, audit head, trust counter, signer fingerprint, older). At execution
 * the file is hashed again (another file is APPROVAL_TARGET_CHANGED) and
 * verified again, then staged; the server seals and restarts to open it
 * (domain/backup/backup-restorer.ts).
 */
import { AccessError, KeychainError } from '../common/errors';
import { validateArgs } from '../protocol/op-schemas';
import { ProtocolError } from '../protocol/protocol-error';
import { OperationContext } from './context';
import { Operation } from './operation';

function restorer(ctx: OperationContext): NonNullable<NonNullable<OperationContext['services']['backups']>['restore']> {
  const service = ctx.services.backups?.restore;
  if (!service) throw new ProtocolError('INVALID_REQUEST', 'this server does not restore backups');
  return service;
}

export const backupRestore: Operation<'BackupRestore'> = {
  name: 'BackupRestore',
  access: 'officer',
  batchable: false,
  changesState: true,
  dualControl: 'backup-restore',
  prepareApproval: async (args, ctx) => {
    const target = await restorer(ctx).prepare(args);
    return { ...args, sha256: target.sha256, target: { ...target } };
  },
  approvalArgs: {
    // prepareApproval makes the stored form; this is never called for BackupRestore.
    store: () => {
      throw new KeychainError('WRONG_STATE', 'a backup restore request is stored only once its backup is verified');
    },
    restore: (stored) => {
      const { target: _shown, ...args } = stored;
      return validateArgs('BackupRestore', args);
    },
  },
  run: (args, ctx) => {
    if (ctx.approval?.dualControlClass !== 'backup-restore') throw new AccessError('PERMISSION_DENIED', 'BackupRestore runs only as an approved request (dual control, class backup-restore)');
    return restorer(ctx).execute(args, ctx.identity, ctx.approval.requestId);
  },
};
