/**
 * `strongroom alias set|remove|list`: other full names for keys, e.g.
 * `payroll/current` pointing at whichever key is in service. Moving an alias
 * is one command; grants are always checked against the key, not the alias.
 */
import { Command } from 'commander';
import { runCommand } from '../context';
import { table } from '../output';

export function aliasCommand(): Command {
  const set = new Command('set')
    .description('point an alias at a key (creates it, or moves it)')
    .argument('<alias>', 'the alias, a full name that is no key\'s')
    .argument('<key>', 'the key it stands for')
    .addHelpText('after', '\nExample:\n  $ strongroom alias set payroll/current payroll/2027')
    .action(
      runCommand(async (ctx, alias: string, key: string) => {
        const result = await ctx.backend().setAlias(alias, key);
        ctx.out.result(result, () => `${result.alias} -> ${result.key}`);
      }),
    );
  const remove = new Command('remove')
    .description('remove an alias (the key stays)')
    .argument('<alias>', 'the alias')
    .action(
      runCommand(async (ctx, alias: string) => {
        const result = await ctx.backend().removeAlias(alias);
        ctx.out.result(result, () => `Removed ${result.alias} (was -> ${result.key})`);
      }),
    );
  const list = new Command('list').description('list aliases').action(
    runCommand(async (ctx) => {
      const aliases = await ctx.backend().listAliases();
      ctx.out.result(aliases, () => (aliases.length === 0 ? 'No aliases.' : table(['ALIAS', 'KEY'], aliases.map((a) => [a.alias, a.key]))));
    }),
  );
  return new Command('alias').description('other names for keys').addCommand(set).addCommand(remove).addCommand(list);
}
