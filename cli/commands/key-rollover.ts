/**
 * `strongroom key rollover NAME`: a new current instance; the old one stays
 * retrievable. A SECRET key's new material is the caller's (--from-file,
 * read as `key register` reads it); every other key's is generated.
 */
import { Command } from 'commander';
import { wipe } from '../../common/secret';
import { runCommand } from '../context';
import { addMaterialFormatOptions, describeMaterial, MaterialOptions, MaterialSummary, newlineWarning, readMaterial } from '../material-input';
import { renderKey } from './key-format';
import { NEWLINE_HELP } from './key-register';

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
  const command = new Command('rollover')
    .description('make a new current instance; the previous one is deactivated but stays retrievable by instance name. A SECRET key takes its new material from --from-file')
    .argument('<name>', 'namespace/name')
    .option('--from-file <path>', 'a SECRET key\'s new material, from this file ("-" for standard input); other keys\' material is generated');
  addMaterialFormatOptions(command).addHelpText(
    'after',
    `${NEWLINE_HELP}

Examples:
  $ strongroom key rollover hr/payroll && strongroom key show hr/payroll
  $ strongroom key rollover app/db-password --from-file ./new-secret.txt --strip-newline`,
  );
  return command.action(
    runCommand(async (ctx, name: string, options: MaterialOptions) => {
      // Without --from-file nothing is read: the appliance generates the material (or names the option for a SECRET key).
      const supplied = options.fromFile === undefined ? null : readMaterial(options);
      try {
        const rolled = await ctx.backend().rollover(name, { material: supplied?.material });
        const summary: MaterialSummary | undefined = supplied?.summary;
        const warning = summary ? newlineWarning(summary, options, rolled.key.fullName) : null;
        if (warning) ctx.out.warn(warning);
        const current = rolled.instances.find((i) => i.current);
        const previous = rolled.instances.find((i) => !i.current && i.deactivatedAt !== null && i.deactivatedAt === current?.activatedAt);
        ctx.out.result(summary ? { ...rolled, stored: summary } : rolled, () =>
          `Rolled ${rolled.key.fullName} over to instance ${rolled.key.currentInstance} (v${rolled.key.currentVersion})` +
          (previous ? `; ${previous.name} (v${previous.version}) is now ${previous.state}` : '') +
          (summary ? `; ${describeMaterial(summary)}` : '') +
          `\n\n${renderKey(rolled.key, rolled.instances)}`,
        );
      } finally {
        wipe(supplied?.material);
      }
    }),
  );
}
