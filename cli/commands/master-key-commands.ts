/**
 * `strongroom master-key status|rotate`: the HSM master key versions and what
 * references them; rotation to a new version (MasterKeyStatus and
 * MasterKeyRotate, through the dispatcher like every command).
 *
 * Rotation is dual-controlled: over the wire (--server) the approvals gate
 * holds it until a quorum of other officers approves. Local mode has no
 * officer certificate to count approvals against, so the dispatcher refuses
 * it there (DUAL_CONTROL_LOCAL_MODE), and records the refusal: otherwise
 * anyone with the machine would sidestep the quorum. `status` works locally
 * too, even on a sealed keychain (it reads the token, not the keys).
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import type { MasterKeyStatus, RotationResult } from '../../client/types';
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

export function masterKeyCommand(): Command {
  const group = new Command('master-key').description('HSM master key versions and rotation');
  group.addCommand(
    new Command('status')
      .description('list master key versions in the token and what each wraps')
      .addHelpText('after', '\nExamples:\n  $ strongroom master-key status\n  $ strongroom --server 127.0.0.1:5700 master-key status --json')
      .action(
        runCommand(async (ctx) => {
          const status = await ctx.requester().request<MasterKeyStatus>('MasterKeyStatus');
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
          const result = await ctx.requester().request<RotationResult>('MasterKeyRotate', options.destroyOld ? { destroyOld: true } : {});
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
