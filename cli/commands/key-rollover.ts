/** `strongroom key rollover NAME`: a new current instance; the old one stays retrievable. */
import { Command } from 'commander';
import { runCommand } from '../context';
import { renderKey } from './key-format';

export function keyUndoRolloverCommand(): Command {
  return new Command('undo-rollover')
    .description('undo the last renewal: the previous instance becomes current and Active again (only right after a rollover)')
    .argument('<name>', 'namespace/name')
    .addHelpText('after', '\nExample:\n  $ strongroom key undo-rollover hr/payroll')
    .action(
      runCommand(async (ctx, name: string) => {
        const undone = await ctx.backend().undoRollover(name);
        ctx.out.result(undone, () => `Undid the last renewal of ${undone.key.fullName}: instance ${undone.key.currentInstance} (v${undone.key.currentVersion}) is current again\n\n${renderKey(undone.key, undone.instances)}`);
      }),
    );
}

export function keyRolloverCommand(): Command {
  return new Command('rollover')
    .description('make a new current instance; the previous one is deactivated but stays retrievable by instance name')
    .argument('<name>', 'namespace/name')
    .addHelpText('after', '\nExample:\n  $ strongroom key rollover hr/payroll && strongroom key show hr/payroll')
    .action(
      runCommand(async (ctx, name: string) => {
        const rolled = await ctx.backend().rollover(name);
        const current = rolled.instances.find((i) => i.current);
        const previous = rolled.instances.find((i) => !i.current && i.deactivatedAt !== null && i.deactivatedAt === current?.activatedAt);
        ctx.out.result(rolled, () =>
          `Rolled ${rolled.key.fullName} over to instance ${rolled.key.currentInstance} (v${rolled.key.currentVersion})` +
          (previous ? `; ${previous.name} (v${previous.version}) is now ${previous.state}` : '') +
          `\n\n${renderKey(rolled.key, rolled.instances)}`,
        );
      }),
    );
}
