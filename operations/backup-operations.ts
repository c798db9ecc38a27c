/**
 * BackupCreate and BackupRead (docs/protocol.md §6, docs/backup.md): an
 * officer has the appliance make a signed backup of its keychain into its
 * backup folder, then reads it out in chunks (the CLI's `backup create
 * --out FILE`, over the wire and in local mode alike).
 *
 * Why neither is dual-controlled: a backup gives its reader nothing an
 * officer cannot already read (key names and metadata, clients, grants,
 * approvals, the audit trail are all officer-readable), plus material sealed
 * under a keychain key that only the HSM's non-extractable master key (and,
 * for a share-bound keychain, the custodians' shares) opens. The dangerous
 * half, putting a backup in place, is what restore's dual control guards.
 * Each call is audited by the dispatcher, and BackupCreate also records a
 * `backup-created` event naming the file, its hash and the audit head it
 * holds.
 */
import { ProtocolError } from '../protocol/protocol-error';
import { OperationContext } from './context';
import { Operation } from './operation';

function backups(ctx: OperationContext): NonNullable<OperationContext['services']['backups']> {
  const service = ctx.services.backups;
  if (!service) throw new ProtocolError('INVALID_REQUEST', 'this server does not make backups');
  return service;
}

export const backupCreate: Operation<'BackupCreate'> = {
  name: 'BackupCreate',
  access: 'officer',
  batchable: false,
  run: async (_args, ctx) => {
    const made = await backups(ctx).create(ctx.identity);
    return { name: made.name, bytes: made.bytes, sha256: made.sha256, manifest: made.manifest };
  },
};

export const backupRead: Operation<'BackupRead'> = {
  name: 'BackupRead',
  access: 'officer',
  batchable: false,
  run: (args, ctx) => {
    const { data, fileBytes } = backups(ctx).read(args.name, args.offset, args.length);
    return { name: args.name, offset: args.offset, data, fileBytes };
  },
};
