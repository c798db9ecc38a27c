/**
 * `strongroom rollover due|run` and `strongroom key set-policy`: what the
 * cryptoperiod scheduler will roll and when, running it now (or, locally, as
 * of a given time, for drills and tests), and changing a key's policy.
 */
import { Command } from 'commander';
import { runCommand } from '../context';
import { table } from '../output';
import { renderKey } from './key-format';

function dueCommand(): Command {
  return new Command('due')
    .description('list the keys whose automatic rollover is due at a time (default now), or falls within a window after it (--within P7D)')
    .option('--at <iso-time>', 'as of this time, e.g. 2027-01-01T00:00:00Z')
    .option('--within <duration>', 'the keys due from now (or --at) up to this ISO 8601 duration later, with their due dates: P7D, P2W, PT12H')
    .option('--limit <n>', 'at most this many', '100')
    .addHelpText(
      'after',
      `
With --within, a key already due (it rolls at the server's next check) is
listed too. Months and years vary in length: write days (P30D).

Examples:
  $ strongroom rollover due
  $ strongroom rollover due --within P7D
  $ strongroom rollover due --at 2027-01-01T00:00:00Z --within P30D --json`,
    )
    .action(
      runCommand(async (ctx, options: { at?: string; within?: string; limit: string }) => {
        const limit = Number(options.limit);
        const report = await ctx.backend().rolloverDue(options.at, Number.isInteger(limit) && limit > 0 ? limit : 100, options.within);
        const when = report.within === undefined ? `at ${report.at}` : `within ${report.within} of ${report.from} (by ${report.at})`;
        ctx.out.result(report, () =>
          report.due.length === 0 ? `Nothing due ${when}.` : `Due ${when}:\n${table(['KEY', 'DUE'], report.due.map((d) => [d.name, d.nextRolloverAt]))}`,
        );
      }),
    );
}

function runSweepCommand(): Command {
  return new Command('run')
    .description('activate every instance whose activation date has come, then roll over every key whose cryptoperiod has ended (the server also does both on its own)')
    .option('--at <iso-time>', 'local mode only: run as if it were this time; it REALLY rolls the keys in this data folder (use a copy for drills)')
    .addHelpText('after', '\nExamples:\n  $ strongroom rollover run\n  $ cp -a ./data /tmp/drill && strongroom --data /tmp/drill rollover run --at 2027-01-01T00:00:00Z    # a drill on a copy')
    .action(
      runCommand(async (ctx, options: { at?: string }) => {
        const result = await ctx.backend().rolloverRun(options.at);
        ctx.out.result(result, () =>
          [
            ...(result.activated > 0 ? [`Activated ${result.activated} instance(s) whose activation date came.`] : []),
            `Rolled over ${result.rolled} key(s) in ${result.batches} batch(es)${result.failed ? `; ${result.failed} failed (see the log)` : ''}.`,
            ...result.keys.map((k) => `  ${k.name} -> ${k.instance}`),
          ].join('\n'),
        );
        if (result.failed + result.activationsFailed > 0) process.exitCode = 4;
      }),
    );
}

export function rolloverCommand(): Command {
  return new Command('rollover').description('cryptoperiod-based automatic rollover').addCommand(dueCommand()).addCommand(runSweepCommand());
}

export function keySetPolicyCommand(): Command {
  return new Command('set-policy')
    .description("change a key's rollover policy: auto (with a cryptoperiod), manual or none")
    .argument('<name>', 'namespace/name')
    .requiredOption('--rollover <policy>', 'auto, manual or none')
    .option('--cryptoperiod <period>', 'with auto: days (90) or ISO 8601 (P90D, P1Y)')
    .option('--protect-period <period>', 'originator usage period of instances activated from now on ("" for none)')
    .option('--process-period <period>', 'recipient usage period of instances activated from now on ("" for none)')
    .addHelpText('after', '\nExample:\n  $ strongroom key set-policy hr/payroll --rollover auto --cryptoperiod P90D')
    .action(
      runCommand(async (ctx, name: string, options: { rollover: string; cryptoperiod?: string; protectPeriod?: string; processPeriod?: string }) => {
        // The policy goes as typed: SetRolloverPolicy checks it (auto needs a cryptoperiod, the others refuse one).
        const periods = options.protectPeriod === undefined && options.processPeriod === undefined ? undefined : { protectPeriod: options.protectPeriod, processPeriod: options.processPeriod };
        const described = await ctx.backend().setRolloverPolicy(name, options.rollover, options.cryptoperiod, periods);
        ctx.out.result(described, () => renderKey(described.key));
      }),
    );
}
