/**
 * `strongroom key rollover NAME`: a new current instance; the old one stays
 * retrievable. A SECRET key's new material is the caller's (--from-file,
 * read as `key register` reads it); every other key's is generated.
 */
import { Command } from 'commander';
import { wipe } from '../../common/secret';
import type { KeyWithInstances } from '../../client/types';
import { runCommand } from '../context';
import { addMaterialFormatOptions, describeMaterial, MaterialOptions, MaterialSummary, newlineWarning, readMaterial } from '../material-input';
import { renderKey } from './key-format';
import { NEWLINE_HELP } from './key-register';
import { ACTIVATE_AT_HELP } from './key-spec-options';

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
    .option('--from-file <path>', 'a SECRET key\'s new material, from this file ("-" for standard input); other keys\' material is generated')
    .option('--activate-at <iso-time>', `${ACTIVATE_AT_HELP}; the current instance stays current and Active until then, and is Deactivated when the new one becomes current`);
  addMaterialFormatOptions(command).addHelpText(
    'after',
    `${NEWLINE_HELP}

Examples:
  $ strongroom key rollover hr/payroll && strongroom key show hr/payroll
  $ strongroom key rollover app/db-password --from-file ./new-secret.txt --strip-newline
  $ strongroom key rollover hr/payroll --activate-at 2027-01-01T00:00:00Z    # a successor that takes over on that date`,
  );
  return command.action(
    runCommand(async (ctx, name: string, options: MaterialOptions & { activateAt?: string }) => {
      // Without --from-file nothing is read: the appliance generates the material (or names the option for a SECRET key).
      const supplied = options.fromFile === undefined ? null : readMaterial(options);
      try {
        const rolled = await ctx.backend().rollover(name, { material: supplied?.material, activateAt: options.activateAt });
        const summary: MaterialSummary | undefined = supplied?.summary;
        const warning = summary ? newlineWarning(summary, options, rolled.key.fullName) : null;
        if (warning) ctx.out.warn(warning);
        ctx.out.result(summary ? { ...rolled, stored: summary } : rolled, () => `${describeRollover(rolled, options.activateAt !== undefined)}${summary ? `; ${describeMaterial(summary)}` : ''}\n\n${renderKey(rolled.key, rolled.instances)}`);
      } finally {
        wipe(supplied?.material);
      }
    }),
  );
}

/** What a rollover did: a new current instance (and what became of the previous one), or a successor waiting for its date. */
function describeRollover(rolled: KeyWithInstances, dated: boolean): string {
  const pending = dated ? rolled.instances.find((i) => !i.current && i.activatesAt !== null) : undefined;
  if (pending) {
    return `Made instance ${pending.name} (v${pending.version}) of ${rolled.key.fullName}: PreActive until ${pending.activatesAt}, when it becomes current; ${rolled.key.currentInstance} (v${rolled.key.currentVersion}) stays current until then`;
  }
  const current = rolled.instances.find((i) => i.current);
  const previous = rolled.instances.find((i) => !i.current && i.deactivatedAt !== null && i.deactivatedAt === current?.activatedAt);
  return `Rolled ${rolled.key.fullName} over to instance ${rolled.key.currentInstance} (v${rolled.key.currentVersion})` + (previous ? `; ${previous.name} (v${previous.version}) is now ${previous.state}` : '');
}
