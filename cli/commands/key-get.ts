/** `strongroom key get NAME`: the material of the current (or a named) instance. */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { CommandContext, runCommand } from '../context';
import type { RetrievedKey } from '../../client/types';

interface GetOptions {
  instance?: string;
  format: string;
}

export function keyGetCommand(): Command {
  return new Command('get')
    .description('print key material: the current instance, or the one named by --instance')
    .argument('[name]', 'namespace/name (optional when --instance is given)')
    .option('-i, --instance <instance>', 'an instance name, to get an older instance')
    .option('-f, --format <fmt>', 'base64, hex or raw (raw writes bytes only)', 'base64')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom key get hr/payroll
  $ strongroom key get hr/payroll --instance Xv3k9pQ2mT7aLr0cWz1y --format hex
  $ strongroom key get hr/payroll --json | jq -r .material

The material is printed to standard output: mind your terminal's scrollback.
An officer without a grant on the key gets APPROVAL_REQUIRED (a key export,
dual-controlled): once approved, \`strongroom approvals collect <id>\` prints it.
In local mode (no --server) key get is refused: DUAL_CONTROL_LOCAL_MODE.`,
    )
    .action(
      runCommand(async (ctx, name: string | undefined, options: GetOptions) => {
        if (!['base64', 'hex', 'raw'].includes(options.format)) throw new ValidationError('--format is base64, hex or raw');
        if (name === undefined && options.instance === undefined) throw new ValidationError('name a key or give --instance');
        if (options.format === 'raw' && ctx.out.json) throw new ValidationError('--format raw cannot be combined with --json');
        printRetrieved(ctx, await ctx.backend().getKey({ name, instance: options.instance }), options.format);
      }),
    );
}

/** Prints fetched material in `format` (base64, hex, raw) and zeroes it; shared with `approvals collect`. */
export function printRetrieved(ctx: CommandContext, retrieved: RetrievedKey, format: string): void {
  try {
    if (format === 'raw') {
      process.stdout.write(retrieved.material);
      return;
    }
    const encoding = format as 'base64' | 'hex';
    ctx.out.result(
      { key: retrieved.key, instance: retrieved.instance, encoding, material: retrieved.material.toString(encoding) },
      () => retrieved.material.toString(encoding),
    );
  } finally {
    wipe(retrieved.material);
  }
}
