/** `strongroom key list`: keys with their current instance, no material. */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { runCommand } from '../context';
import { table } from '../output';

interface ListOptions {
  namespace?: string;
  match?: string;
  algorithm?: string;
  limit?: string;
}

export function keyListCommand(): Command {
  return new Command('list')
    .description('list keys (metadata only)')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option('-m, --match <glob>', 'only full names matching the glob, e.g. "hr/*"')
    .option('-a, --algorithm <alg>', 'only this algorithm')
    .option('--limit <n>', 'at most this many', '1000')
    .addHelpText('after', '\nExamples:\n  $ strongroom key list --match "hr/*"\n  $ strongroom key list --json | jq ".[].fullName"')
    .action(
      runCommand(async (ctx, options: ListOptions) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ValidationError(`--limit is a whole number from 1 to 100000, not "${options.limit}"`);
        const keys = await ctx.backend().listKeys({
          namespace: options.namespace,
          match: options.match,
          algorithm: options.algorithm,
          limit: Number.isInteger(limit) && limit > 0 ? limit : 1000,
        });
        ctx.out.result(keys, () =>
          keys.length === 0
            ? 'No keys. Create one with: strongroom key create <namespace/name>'
            : table(
                ['NAME', 'ALGORITHM', 'VERSION', 'CURRENT INSTANCE', 'ROLLOVER'],
                keys.map((k) => [k.fullName, k.algorithm, String(k.currentVersion), k.currentInstance, k.cryptoperiod ? `${k.rolloverPolicy} ${k.cryptoperiod}` : k.rolloverPolicy]),
              ),
        );
      }),
    );
}
