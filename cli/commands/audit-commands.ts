/**
 * `strongroom audit verify|public-key|tail|search|export`: the tamper-evident
 * trail. tail prints the latest events (local mode, read-only open, no HSM);
 * public-key prints the checkpoint signing key; the others live in their own files.
 */
import { Command } from 'commander';
import { runCommand } from '../context';
import { latestEvents, signingPublicKey } from '../offline/offline-audit';
import { auditExportCommand } from './audit-export';
import { auditSearchCommand } from './audit-search';
import { auditVerifyCommand } from './audit-verify';

export function auditCommand(): Command {
  const publicKey = new Command('public-key')
    .description('print the HSM signing public key (PEM) that signs audit checkpoints, to keep apart and pass to `audit verify --public-key`')
    .addHelpText('after', '\nExample:\n  $ strongroom audit public-key > signing-key.pem')
    .action(
      runCommand(async (ctx) => {
        const key = await signingPublicKey(ctx);
        ctx.out.result(key, () => key.publicKey.trimEnd());
      }),
    );
  const tail = new Command('tail')
    .description('print the latest audit events (one JSON object per line, or a JSON array with --json)')
    .option('-n, --lines <n>', 'how many', '20')
    .option('--limit <n>', 'the same as --lines (the other audit commands say --limit)')
    .addHelpText('after', '\nExample:\n  $ strongroom audit tail -n 50')
    .action(
      runCommand(async (ctx, options: { lines: string; limit?: string }) => {
        const events = latestEvents(ctx, Number(options.limit ?? options.lines) || 20);
        ctx.out.result(events, () => (events.length === 0 ? 'No audit events yet.' : events.map((e) => JSON.stringify(e)).join('\n')));
      }),
    );
  return new Command('audit')
    .description('the tamper-evident audit trail')
    .addCommand(auditVerifyCommand())
    .addCommand(publicKey)
    .addCommand(tail)
    .addCommand(auditSearchCommand())
    .addCommand(auditExportCommand());
}
