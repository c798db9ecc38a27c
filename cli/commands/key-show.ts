/** `strongroom key show NAME`: a key's metadata and all its instances, no material. */
import { Command } from 'commander';
import { runCommand } from '../context';
import { renderKey } from './key-format';

export function keyShowCommand(): Command {
  return new Command('show')
    .description("show a key's attributes and every instance (never material)")
    .argument('<name>', 'namespace/name')
    .addHelpText('after', '\nExample:\n  $ strongroom key show hr/payroll')
    .action(
      runCommand(async (ctx, name: string) => {
        const described = await ctx.backend().describeKey(name);
        ctx.out.result(described, () => renderKey(described.key, described.instances));
      }),
    );
}
