/**
 * `strongroom audit export`: writes audit events as export lines
 * (protocol/audit-line.ts: the wire's format, which the event stream and the
 * SIEM sinks also carry), one per line, to a file or stdout, page by
 * page (bounded memory for any trail). An unfiltered export from event N
 * re-verifies with `audit verify --from-file`; a filtered one has gaps and
 * cannot (verify names the first missing event).
 */
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import type { AuditLine } from '../../client/types';
import { canonicalEvent } from '../../protocol/audit-event';
import { auditLineOf } from '../../protocol/audit-line';
import { MAX_AUDIT_SEARCH_LIMIT } from '../../protocol/op-schemas';
import { withAuditBackend } from '../backend/audit-backend';
import { runCommand } from '../context';
import { openOutStream } from '../out-file';
import { addAuditFilterOptions, AuditFilterFlags, narrows, queryOf } from './audit-filter-options';

/** The line as the keychain would export it: the canonical event text is rebuilt, so the hash still covers it. */
function lineOf(view: AuditLine): string {
  return auditLineOf({ seq: view.seq, event: canonicalEvent(view.event), prevHash: Buffer.from(view.prevHash, 'hex'), hash: Buffer.from(view.hash, 'hex') });
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export function auditExportCommand(): Command {
  return addAuditFilterOptions(new Command('export').description('write audit events as JSON lines ({seq, prevHash, hash, event}) for archives and SIEMs'))
    .option('--out <file>', 'write to this file (mode 0600; a symbolic link is refused) instead of stdout; required with --json')
    .addHelpText(
      'after',
      `
An unfiltered export (optionally from --from-seq N) can be re-verified with
\`strongroom audit verify --from-file FILE\`, which chains from the first
line's prevHash. A FILTERED export (any of --from, --to, --identity, --key-name,
--operation, --result, --type) leaves events out, so its chain has gaps and
verify --from-file reports the first missing event: filter for reading,
export unfiltered for evidence. A file cut short at its END still chains:
verify --from-file prints its last seq and hash; compare them with the
headSeq/headHash of \`strongroom audit verify\` (or an anchor you kept)
to know that nothing after them is missing.

Examples:
  $ strongroom audit export --out audit-2026-11.jsonl
  $ strongroom audit export --from-seq 120001 --out audit-from-120001.jsonl
  $ strongroom audit export --key-name 'hr/*' --result error > hr-refusals.jsonl
  $ strongroom --server 127.0.0.1:5700 --cert auditor.crt --key auditor.key audit export --json --out trail.jsonl`,
    )
    .action(
      runCommand(async (ctx, options: AuditFilterFlags & { out?: string }) => {
        if (ctx.out.json && options.out === undefined) throw new ValidationError('with --json, give --out FILE: stdout carries the one JSON summary');
        const query = queryOf(options);
        const filtered = narrows(options);
        const stream: Writable = options.out === undefined ? process.stdout : openOutStream(options.out);
        let exported = 0;
        let firstSeq: number | null = null;
        let lastSeq: number | null = null;
        try {
          await withAuditBackend(ctx, async (backend) => {
            let fromSeq = query.fromSeq;
            for (;;) {
              const page = await backend.search({ ...query, fromSeq, limit: MAX_AUDIT_SEARCH_LIMIT });
              for (const view of page.events) {
                await write(stream, `${lineOf(view)}\n`);
                firstSeq ??= view.seq;
                lastSeq = view.seq;
                exported++;
              }
              if (page.nextSeq === null) return;
              fromSeq = page.nextSeq;
            }
          });
        } finally {
          if (stream !== process.stdout) {
            stream.end();
            await once(stream, 'close');
          }
        }
        if (filtered && !ctx.out.json) ctx.out.warn('filtered export: events were left out, so this file does not chain-verify (export without filters for evidence)');
        const summary = { exported, firstSeq, lastSeq, filtered, verifiable: !filtered && exported > 0, out: options.out ?? null };
        if (options.out !== undefined) ctx.out.result(summary, () => `Exported ${exported} event(s)${firstSeq === null ? '' : ` (${firstSeq}..${lastSeq})`} to ${options.out}.`);
      }),
    );
}
