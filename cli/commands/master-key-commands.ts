/**
 * `strongroom master-key status|rotate`: the HSM master key versions and what
 * references them; rotation to a new version (domain/master-key-rotation.ts).
 * Over the wire (--server) rotation is the MasterKeyRotate operation, held
 * by the dual-control gate; locally it runs on the data folder and the HSM
 * directly, which only someone with the machine, the HSM PIN and the
 * keychain file can do, and is an explicit command of its own.
 */
import { Command } from 'commander';
import { MasterKeyStatus, masterKeyStatus, RotationResult, rotateMasterKey } from '../../domain/master-key-rotation';
import { remoteRequester } from '../backend/remote-request';
import { CommandContext, runCommand } from '../context';

function renderStatus(status: MasterKeyStatus): string {
  return [
    `Master key: v${status.current} (new wrappings use it)`,
    `  in the token:  ${status.tokenVersions.map((v) => `v${v}`).join(', ') || '-'}`,
    ...status.referenced.map((r) => `  v${r.version}: wraps ${r.keychainKeys} keychain key version(s), ${r.secrets} HSM-sealed secret(s)`),
    `  unreferenced:  ${status.unreferenced.map((v) => `v${v}`).join(', ') || '-'}${status.unreferenced.length > 0 ? ' (left by a crashed or --keep-old rotation; the next rotation destroys them)' : ''}`,
    ...(status.missing.length > 0 ? [`  MISSING from the token: ${status.missing.map((v) => `v${v}`).join(', ')}: the keychain cannot unseal with this token`] : []),
  ].join('\n');
}

async function withLocalHsm<T>(ctx: CommandContext, fn: (appliance: ReturnType<CommandContext['open']>) => Promise<T>): Promise<T> {
  const appliance = ctx.open();
  return fn(appliance);
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
            status = await withLocalHsm(ctx, async (appliance) => masterKeyStatus(appliance.store, await appliance.hsm()));
          }
          ctx.out.result(status, () => renderStatus(status));
          if (status.missing.length > 0) process.exitCode = 6;
        }),
      ),
  );
  group.addCommand(
    new Command('rotate')
      .description('make a new master key version, rewrap the keychain under it, destroy versions nothing references')
      .option('--keep-old', 'keep the old versions in the token (e.g. until backups taken before are retired)')
      .addHelpText(
        'after',
        `
Examples:
  $ strongroom --server 127.0.0.1:5700 master-key rotate     # dual-controlled
  $ strongroom master-key rotate --keep-old                  # local: the data folder and HSM directly

Every step is crash-safe: killed at any point, the keychain still unseals,
and running rotate again completes it. Custodian shares are unaffected (the
share binding sits inside the HSM wrap). A database backup taken before a
rotation needs the old version: rotate with --keep-old until it is retired.`,
      )
      .action(
        runCommand(async (ctx, options: { keepOld?: boolean }) => {
          const config = ctx.config();
          let result: RotationResult;
          if (config.values.server_address) {
            const remote = remoteRequester(config, 'master-key rotate');
            try {
              result = await remote.request<RotationResult>('MasterKeyRotate', options.keepOld ? { keepOld: true } : {});
            } finally {
              await remote.close();
            }
          } else {
            result = await withLocalHsm(ctx, async (appliance) => rotateMasterKey(appliance.store, await appliance.hsm(), { keepOld: options.keepOld === true }));
          }
          ctx.out.result(result, () =>
            [
              `Rotated the master key from ${result.from.map((v) => `v${v}`).join(', ')} to v${result.to}${result.reusedVersion ? ' (reusing the version a crashed rotation made)' : ''}`,
              `  rewrapped: ${result.rewrapped.keychainKeys} keychain key version(s), ${result.rewrapped.secrets} HSM-sealed secret(s)`,
              `  destroyed: ${result.destroyed.map((v) => `v${v}`).join(', ') || 'none'}`,
            ].join('\n'),
          );
        }),
      ),
  );
  return group;
}
