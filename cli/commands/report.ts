/**
 * `strongroom report`: the compliance report for a period — key inventory,
 * who accessed which keys, dual-control requests, audit-chain status — as
 * Markdown, self-contained HTML (with a usage chart, viewable offline) or
 * JSON. Locally (the HSM unseals the keychain for the inventory) or with
 * --server as an officer or auditor.
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { DEFAULT_REPORT_DAYS } from '../../protocol/op-schemas';
import type { ComplianceReport } from '../../client/types';
import { renderHtml } from '../report/render-html';
import { renderMarkdown } from '../report/render-markdown';
import { withAuditBackend } from '../backend/audit-backend';
import { runCommand } from '../context';
import { assertNotLink, writeOutFile } from '../out-file';

const FORMATS = ['md', 'html', 'json'] as const;
type Format = (typeof FORMATS)[number];

export function renderReport(report: ComplianceReport, format: Format): string {
  switch (format) {
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}

export function reportCommand(): Command {
  return new Command('report')
    .description('compliance report: key inventory, key access, dual-control requests and audit-chain status for a period')
    .option('--from <time>', `start of the period, ISO 8601 (default: ${DEFAULT_REPORT_DAYS} days before --to)`)
    .option('--to <time>', 'end of the period, exclusive, ISO 8601 (default: now)')
    .option('--format <format>', 'md, html (self-contained, with a usage chart) or json (default: md; json with --json)')
    .option('--out <file>', 'write the report to this file (mode 0600; a symbolic link is refused) and print a summary')
    .addHelpText(
      'after',
      `
Without --out the report goes to stdout. With --json (and no --out) the
report is the JSON document. The report never holds key material.

Examples:
  $ strongroom report > last-30-days.md
  $ strongroom report --from 2026-11-01 --to 2026-12-01 --format html --out november.html
  $ strongroom --server 127.0.0.1:5700 --cert auditor.crt --key auditor.key report --json > report.json`,
    )
    .action(
      runCommand(async (ctx, options: { from?: string; to?: string; format?: string; out?: string }) => {
        options.format ??= ctx.out.json ? 'json' : 'md';
        if (!(FORMATS as readonly string[]).includes(options.format)) throw new ValidationError(`--format must be one of ${FORMATS.join(', ')}`, { details: { field: 'format' } });
        const format = options.format as Format;
        if (ctx.out.json && options.out === undefined && format !== 'json') throw new ValidationError(`with --json, give --out FILE for --format ${format} (stdout carries one JSON document)`);
        // A link at --out is refused before the report is built, not after.
        if (options.out !== undefined) assertNotLink(options.out);
        const report = await withAuditBackend(ctx, (backend) => backend.report({ from: options.from, to: options.to }));
        if (options.out === undefined) {
          if (ctx.out.json) ctx.out.result(report, () => '');
          else process.stdout.write(renderReport(report, format));
          return;
        }
        const text = renderReport(report, format);
        writeOutFile(options.out, text);
        const summary = { out: options.out, format, bytes: Buffer.byteLength(text), period: report.period, keys: report.keys.total, operations: report.access.events, chainOk: report.chain.ok };
        ctx.out.result(summary, () => `Wrote the ${format} report for ${report.period.from} to ${report.period.to} to ${options.out} (${summary.bytes} bytes).`);
      }),
    );
}
