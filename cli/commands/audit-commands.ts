/**
 * `strongroom audit verify|public-key|tail|search|export`: the tamper-evident
 * trail. tail prints the latest events (local mode, read-only open, no HSM);
 * public-key prints the checkpoint signing key; the others live in their own files.
 */
import { Command } from 'commander';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';
import { runCommand } from '../context';
import { auditExportCommand } from './audit-export';
import { auditSearchCommand } from './audit-search';
import { auditVerifyCommand } from './audit-verify';

export function auditCommand(): Command {
  const publicKey = new Command('public-key')
    .description('print the HSM signing public key (PEM) that signs audit checkpoints, to keep apart and pass to `audit verify --public-key`')
    .addHelpText('after', '\nExample:\n  $ strongroom audit public-key > signing-key.pem')
    .action(
      runCommand(async (ctx) => {
        const appliance = ctx.open({ readonly: true });
        const pem = await (await appliance.hsm()).signingPublicKey();
        ctx.out.result({ publicKey: pem, fingerprint: publicKeyFingerprint(pem) }, () => pem.trimEnd());
      }),
    );
  const tail = new Command('tail')
    .description('print the latest audit events (one JSON object per line, or a JSON array with --json)')
    .option('-n, --lines <n>', 'how many', '20')
    .option('--limit <n>', 'the same as --lines (the other audit commands say --limit)')
    .addHelpText('after', '\nExample:\n  $ strongroom audit tail -n 50')
    .action(
      runCommand(async (ctx, options: { lines: string; limit?: string }) => {
        const appliance = ctx.open({ readonly: true });
        const head = appliance.store.audit.auditHead();
        const wanted = Math.min(Math.max(1, Number(options.limit ?? options.lines) || 20), 10_000);
        const records = head ? appliance.store.audit.readAuditRecords(Math.max(1, head.seq - wanted + 1), wanted) : [];
        const events = records.map((r) => ({ seq: r.seq, hash: r.hash.toString('hex'), ...JSON.parse(r.event) }));
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
