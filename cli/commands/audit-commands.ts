/**
 * `strongroom audit verify|tail`: checks the audit chain and names the first
 * event where it breaks; prints the latest events. Local mode (the keychain
 * file is read directly, no HSM needed).
 */
import { Command } from 'commander';
import { verifyStore } from '../../domain/audit/audit-chain';
import { runCommand } from '../context';

export function auditCommand(): Command {
  const verify = new Command('verify')
    .description('check the audit hash chain; exit 7 and name the first broken event if it was altered, deleted or reordered')
    .addHelpText('after', '\nExample:\n  $ strongroom audit verify --json')
    .action(
      runCommand(async (ctx) => {
        const appliance = ctx.open({ readonly: true });
        const verdict = verifyStore(appliance.store.audit);
        ctx.out.result(verdict, () => (verdict.ok ? `Audit chain intact: ${verdict.events} event(s).` : `Audit chain BROKEN at event ${verdict.firstBadSeq}: ${verdict.reason} (${verdict.events} event(s) verified before it).`));
        if (!verdict.ok) process.exitCode = 7;
      }),
    );
  const tail = new Command('tail')
    .description('print the latest audit events (one JSON object per line, or a JSON array with --json)')
    .option('-n, --lines <n>', 'how many', '20')
    .addHelpText('after', '\nExample:\n  $ strongroom audit tail -n 50')
    .action(
      runCommand(async (ctx, options: { lines: string }) => {
        const appliance = ctx.open({ readonly: true });
        const head = appliance.store.audit.auditHead();
        const wanted = Math.min(Math.max(1, Number(options.lines) || 20), 10_000);
        const records = head ? appliance.store.audit.readAuditRecords(Math.max(1, head.seq - wanted + 1), wanted) : [];
        const events = records.map((r) => ({ seq: r.seq, hash: r.hash.toString('hex'), ...JSON.parse(r.event) }));
        ctx.out.result(events, () => (events.length === 0 ? 'No audit events yet.' : events.map((e) => JSON.stringify(e)).join('\n')));
      }),
    );
  return new Command('audit').description('the tamper-evident audit trail').addCommand(verify).addCommand(tail);
}
