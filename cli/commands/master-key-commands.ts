/**
 * `strongroom master-key status|rotate`: the HSM master key versions and what
 * references them; rotation to a new version (domain/master-key-rotation.ts).
 *
 * Rotation is dual-controlled: over the wire (--server) it is the
 * MasterKeyRotate operation, held by the approvals gate until a quorum of
 * other officers approves. Local mode has no officer identity to count
 * approvals against, so it refuses rotation (DUAL_CONTROL_LOCAL_MODE) like
 * every other dual-controlled local command: otherwise anyone with the
 * machine would sidestep the quorum. `status` reads locally too. Both local
 * commands leave an event in the audit trail (the refusal included), under
 * the operator's OS identity, as the rest of local mode does.
 */
import { localIdentity } from '../backend/audited-backend';
import { Command } from 'commander';
import { systemClock } from '../../common/clock';
import { ApprovalError, ValidationError, asStrongroomError } from '../../common/errors';
import { stampOf } from '../../domain/audit/audit-event';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { MasterKeyStatus, masterKeyStatus, RotationResult } from '../../domain/master-key-rotation';
import { Appliance } from '../../server/compose/open-appliance';
import { remoteRequester } from '../backend/remote-request';
import { runCommand } from '../context';

function renderStatus(status: MasterKeyStatus): string {
  return [
    `Master key: v${status.current} (new wrappings use it)`,
    `  in the token:  ${status.tokenVersions.map((v) => `v${v}`).join(', ') || '-'}`,
    ...status.referenced.map((r) => `  v${r.version}: wraps ${r.keychainKeys} keychain key version(s), ${r.secrets} HSM-sealed secret(s)`),
    `  unreferenced:  ${status.unreferenced.map((v) => `v${v}`).join(', ') || '-'}${status.unreferenced.length > 0 ? ' (not used by this keychain; backups from before a rotation and other keychains on the token may need them)' : ''}`,
    ...(status.missing.length > 0 ? [`  MISSING from the token: ${status.missing.map((v) => `v${v}`).join(', ')}: the keychain cannot unseal with this token`] : []),
  ].join('\n');
}

/** Appends one local-operation event (no key, no material: the operation and how it ended). */
async function recordLocal(appliance: Appliance, operation: string, result: string): Promise<void> {
  await new AuditWriter(appliance.store.audit).record({
    ...stampOf({ clock: systemClock, newId: () => appliance.ids.newId() }),
    type: 'local-operation',
    identity: localIdentity(),
    endUser: null,
    purpose: null,
    source: 'local',
    operation,
    key: null,
    instance: null,
    result,
    requestId: null,
    custom: {},
  });
}

export function masterKeyCommand(): Command {
  const group = new Command('master-key').description('HSM master key versions and rotation');
  group.addCommand(
    new Command('status')
      .description('list master key versions in the token and what each wraps')
      .addHelpText('after', '\nExamples:\n  $ strongroom master-key status\n  $ strongroom --server 127.0.0.1:5700 master-key status --json')
      .action(
        runCommand(async (ctx) => {
          const config = ctx.config();
          let status: MasterKeyStatus;
          if (config.values.server_address) {
            const remote = remoteRequester(config, 'master-key status');
            try {
              status = await remote.request<MasterKeyStatus>('MasterKeyStatus');
            } finally {
              await remote.close();
            }
          } else {
            const appliance = ctx.open();
            try {
              status = await masterKeyStatus(appliance.store, await appliance.hsm());
            } catch (err) {
              await recordLocal(appliance, 'MasterKeyStatus', asStrongroomError(err).code).catch(() => undefined);
              throw err;
            }
            await recordLocal(appliance, 'MasterKeyStatus', 'ok');
          }
          ctx.out.result(status, () => renderStatus(status));
          if (status.missing.length > 0) process.exitCode = 6;
        }),
      ),
  );
  group.addCommand(
    new Command('rotate')
      .description('make a new master key version and rewrap the keychain under it (dual-controlled; --server only)')
      .option('--destroy-old', 'also destroy, irreversibly, the old versions THIS keychain no longer references (see below)')
      .option('--keep-old', 'keep the old versions in the token: the default; accepted for older scripts')
      .addHelpText(
        'after',
        `
Examples:
  $ strongroom --server 127.0.0.1:5700 master-key rotate                 # exit 12: other officers approve
  $ strongroom --server 127.0.0.1:5700 approvals collect <request-id>    # once approved (or approvals show)
  $ strongroom --server 127.0.0.1:5700 master-key rotate --destroy-old   # only when nothing else uses the token

Rotation is dual-controlled: it answers APPROVAL_REQUIRED (exit 12) with a
request id that other officers approve (strongroom approvals approve); the
rotation runs when the quorum is met. Local mode (no --server) refuses it:
DUAL_CONTROL_LOCAL_MODE.

Old versions are KEPT in the token by default. Every database backup taken
before the rotation, a DR copy of the keychain and a restore test still
need them, and the master key cannot be exported: a destroyed version is
gone for good, and so is every keychain that still names it.
--destroy-old destroys the versions this keychain no longer references;
use it only when no backup, copy or other keychain uses this token.

Every step is crash-safe: killed at any point, the keychain still unseals,
and running rotate again completes it. Custodian shares are unaffected (the
share binding sits inside the HSM wrap).`,
      )
      .action(
        runCommand(async (ctx, options: { keepOld?: boolean; destroyOld?: boolean }) => {
          if (options.keepOld && options.destroyOld) throw new ValidationError('give --keep-old or --destroy-old, not both');
          const config = ctx.config();
          if (!config.values.server_address) {
            const refusal = new ApprovalError(
              'DUAL_CONTROL_LOCAL_MODE',
              'master-key rotate is dual-controlled: local mode has no officer identity to approve against; run it with --server and an officer certificate',
            );
            try {
              await recordLocal(ctx.open(), 'MasterKeyRotate', refusal.code);
            } catch {
              // No keychain here, or the trail cannot be written: the refusal stands all the same.
            }
            throw refusal;
          }
          const remote = remoteRequester(config, 'master-key rotate');
          let result: RotationResult;
          try {
            result = await remote.request<RotationResult>('MasterKeyRotate', options.destroyOld ? { destroyOld: true } : {});
          } finally {
            await remote.close();
          }
          ctx.out.result(result, () => renderRotation(result));
        }),
      ),
  );
  return group;
}

export function renderRotation(result: RotationResult): string {
  return [
    `Rotated the master key from ${result.from.map((v) => `v${v}`).join(', ')} to v${result.to}${result.reusedVersion ? ' (reusing the version a crashed rotation made)' : ''}`,
    `  rewrapped: ${result.rewrapped.keychainKeys} keychain key version(s), ${result.rewrapped.secrets} HSM-sealed secret(s)`,
    `  destroyed: ${result.destroyed.map((v) => `v${v}`).join(', ') || 'none (old versions kept)'}`,
  ].join('\n');
}
