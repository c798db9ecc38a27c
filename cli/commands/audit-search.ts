/**
 * `strongroom audit search`: the audit events that match filters, oldest
 * first, a page at a time (--limit, hard-capped, and --from-seq as the
 * cursor). Locally or, with --server, over the wire as an officer or an
 * auditor.
 */
import { Command } from 'commander';
import { DEFAULT_AUDIT_SEARCH_LIMIT, MAX_AUDIT_SEARCH_LIMIT } from '../../protocol/op-schemas';
import type { AuditLine } from '../../client/types';
import { positiveInteger, withAuditBackend } from '../backend/audit-backend';
import { runCommand } from '../context';
import { addAuditFilterOptions, AuditFilterFlags, queryOf } from './audit-filter-options';

function eventLine(line: AuditLine): string {
  const e = line.event;
  const who = e.identity ? e.identity.name || e.identity.fingerprint256.slice(0, 16) : '-';
  const user = e.endUser ? ` for ${JSON.stringify(e.endUser)}` : '';
  return `${line.seq}  ${e.time}  ${e.type}  ${who}${user}  ${e.operation ?? '-'}  ${e.key ?? '-'}  ${e.result}`;
}

export function auditSearchCommand(): Command {
  return addAuditFilterOptions(
    new Command('search').description(`print the audit events matching the filters, oldest first (at most --limit, hard cap ${MAX_AUDIT_SEARCH_LIMIT})`),
  )
    .option('-n, --limit <n>', `most events to print (1-${MAX_AUDIT_SEARCH_LIMIT})`, String(DEFAULT_AUDIT_SEARCH_LIMIT))
    .addHelpText(
      'after',
      `
The next page starts at the "nextSeq" printed at the end (--from-seq). Over
the wire (--server) this works with an auditor's certificate as well as an
officer's.

Examples:
  $ strongroom audit search --key-name 'hr/*' --result error
  $ strongroom audit search --identity payroll-app --from 2026-11-01 --to 2026-12-01 --json
  $ strongroom audit search --type 'approval*' --limit 1000 --from-seq 5001
  $ strongroom --server 127.0.0.1:5700 --cert auditor.crt --key auditor.key audit search --operation Get`,
    )
    .action(
      runCommand(async (ctx, options: AuditFilterFlags & { limit: string }) => {
        const limit = Math.min(positiveInteger(options.limit, '--limit') ?? DEFAULT_AUDIT_SEARCH_LIMIT, MAX_AUDIT_SEARCH_LIMIT);
        const query = queryOf(options);
        const result = await withAuditBackend(ctx, async (backend) => {
          const events: AuditLine[] = [];
          let fromSeq = query.fromSeq;
          let nextSeq: number | null = fromSeq ?? 1;
          // Each page advances nextSeq through a finite trail, so this ends; a page may be empty when its scan budget ran out.
          while (events.length < limit && nextSeq !== null) {
            const page = await backend.search({ ...query, fromSeq, limit: limit - events.length });
            events.push(...page.events);
            nextSeq = page.nextSeq;
            fromSeq = nextSeq ?? undefined;
          }
          return { events, nextSeq };
        });
        ctx.out.result(result, () => {
          const lines = result.events.length === 0 ? ['No matching audit events.'] : result.events.map(eventLine);
          if (result.nextSeq !== null) lines.push(`(more may follow: --from-seq ${result.nextSeq})`);
          return lines.join('\n');
        });
      }),
    );
}
