/** `strongroom key create NAME`: a new key whose material the appliance generates. */
import { Command } from 'commander';
import { runCommand } from '../context';
import { activationNote, renderKey } from './key-format';
import { addKeySpecOptions, keyArgsFrom, KeySpecOptions } from './key-spec-options';

export function keyCreateCommand(): Command {
  const command = new Command('create')
    .description('create a key; the appliance generates its material')
    .argument('<name>', 'namespace/name, e.g. hr/payroll (no namespace: "default")');
  addKeySpecOptions(command, 'AES-256', 'AES-128, AES-192, AES-256, HMAC-SHA256, HMAC-SHA512 or CHACHA20 (SECRET keys are registered: key register)').addHelpText(
    'after',
    `
Examples:
  $ strongroom key create hr/payroll
  $ strongroom key create pay/tokens -a HMAC-SHA256 --cryptoperiod P90D --owner payments
  $ strongroom key create crm/pii -u encrypt,decrypt --attr pci=true --json
  $ strongroom key create fy27/ledger --activate-at 2027-01-01T00:00:00Z    # PreActive until then`,
  );
  return command.action(
    runCommand(async (ctx, name: string, options: KeySpecOptions) => {
      const args = keyArgsFrom(name, options); // the flag syntax, before anything is opened
      const created = await ctx.backend().createKey(args);
      ctx.out.result(created, () => `Created ${created.key.fullName}, instance ${created.key.currentInstance}${activationNote(created.instances)}\n\n${renderKey(created.key)}`);
    }),
  );
}
