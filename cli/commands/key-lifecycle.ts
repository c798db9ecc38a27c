/**
 * `strongroom key activate|revoke|destroy`: lifecycle of a key's current
 * instance, or of the instance named by --instance.
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { REVOCATION_REASONS } from '../../protocol/op-schemas';
import type { InstanceView } from '../../client/types';
import { LifecycleAction } from '../backend/backend';
import { runCommand } from '../context';

/** What a lifecycle command says it did: a cancelled destruction says so, not only the state it left. */
export function describeLifecycleResult(action: LifecycleAction, instance: InstanceView): string {
  if (action === 'destroy-cancel') return `Cancelled the scheduled destruction of instance ${instance.name} (v${instance.version}); it stays ${instance.state}`;
  const pending = instance.destroyAt ? `, destruction scheduled for ${instance.destroyAt} (cancel: strongroom key destroy --cancel)` : '';
  return `Instance ${instance.name} (v${instance.version}) is ${instance.state}${pending}`;
}

function lifecycleCommand(name: string, description: string, action: (options: Record<string, unknown>) => LifecycleAction, example: string): Command {
  return new Command(name)
    .description(description)
    .argument('[name]', 'namespace/name (optional with --instance)')
    .option('-i, --instance <instance>', 'an instance name instead of the current instance')
    .addHelpText('after', `\nExample:\n  $ ${example}`)
    .action(
      runCommand(async (ctx, keyName: string | undefined, options: Record<string, unknown>) => {
        if (keyName === undefined && options.instance === undefined) throw new ValidationError('name a key or give --instance');
        const chosen = action(options);
        const instance = await ctx.backend().lifecycle(chosen, { name: keyName, instance: options.instance as string | undefined }, options.reason as string | undefined);
        ctx.out.result({ instance }, () => describeLifecycleResult(chosen, instance));
      }),
    );
}

export function keyActivateCommand(): Command {
  return lifecycleCommand(
    'activate',
    'activate a PreActive instance now, before the date --activate-at gave it (the server activates it on that date on its own); a scheduled rollover\'s instance becomes current',
    () => 'activate',
    'strongroom key activate --instance Xv3k9pQ2mT7aLr0cWz1y',
  );
}

export function keyRevokeCommand(): Command {
  return lifecycleCommand('revoke', 'revoke an instance: Deactivated (it still decrypts), or Compromised with --reason keyCompromise', () => 'revoke', 'strongroom key revoke hr/payroll --reason superseded').option(
    '--reason <reason>',
    `one of ${REVOCATION_REASONS.join(', ')}`,
    'unspecified',
  );
}

export function keyDestroyCommand(): Command {
  return lifecycleCommand(
    'destroy',
    'schedule the destruction of a revoked instance after destruction_wait (default 7 days), or --cancel it',
    (options) => (options.cancel ? 'destroy-cancel' : 'destroy'),
    'strongroom key destroy hr/payroll --instance Xv3k9pQ2mT7aLr0cWz1y',
  ).option('--cancel', 'cancel a pending destruction');
}
