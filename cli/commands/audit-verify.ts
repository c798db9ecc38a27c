/**
 * `strongroom audit verify`: checks the keychain's audit chain (locally,
 * or with --server as an officer or auditor), or with --from-file the
 * chain of an exported or SIEM-forwarded JSON-lines file (`-`: stdin),
 * streamed line by line. Exit 7 names the first missing, altered or
 * reordered event; exit 2 names a line that is not an audit line.
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { Command } from 'commander';
import { EXIT } from '../../common/error-codes';
import { ValidationError } from '../../common/errors';
import { verifyAuditFile, FileVerdict } from '../../domain/audit/audit-file-verify';
import { withAuditBackend } from '../backend/audit-backend';
import { runCommand } from '../context';

async function openIn(path: string): Promise<Readable> {
  if (path === '-') return process.stdin;
  const stream = createReadStream(path);
  try {
    await once(stream, 'open');
    return stream;
  } catch (cause) {
    throw new ValidationError(`cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give the file \`strongroom audit export\` wrote, or - for stdin`, { cause });
  }
}

function fileVerdictText(v: FileVerdict): string {
  if (!v.ok) return `Audit file chain BROKEN at event ${v.firstBadSeq} (line ${v.line}): ${v.reason} (${v.events} event(s) verified before it).`;
  const from =
    v.start === 'genesis' ? 'from the first event of the trail'
      : v.start === 'keychain' ? `from event ${v.firstSeq}, every event matching the keychain's`
        : `from event ${v.firstSeq}, trusting its prevHash (add --against-keychain to check it against the keychain)`;
  return `Audit file chain intact: ${v.events} event(s), ${v.firstSeq}..${v.lastSeq}, ${from}.`;
}

export function auditVerifyCommand(): Command {
  return new Command('verify')
    .description('check the audit hash chain (of the keychain, or of an exported file); exit 7 and name the first event that was altered, deleted or reordered')
    .option('--from-file <file>', 'verify exported or SIEM-forwarded JSON lines instead (- for stdin)')
    .option('--against-keychain', "with --from-file: also compare every event with the local keychain's")
    .addHelpText(
      'after',
      `
A file from an unfiltered export verifies from its first line (genesis when
it starts at event 1). A filtered export has gaps by design: verify names
the first missing event. A line that is not an audit line exits 2 with its
number.

Examples:
  $ strongroom audit verify --json
  $ strongroom audit verify --from-file audit-2026-11.jsonl
  $ strongroom audit verify --from-file audit-from-120001.jsonl --against-keychain
  $ cat siem-export.jsonl | strongroom audit verify --from-file -
  $ strongroom --server 127.0.0.1:5700 --cert auditor.crt --key auditor.key audit verify`,
    )
    .action(
      runCommand(async (ctx, options: { fromFile?: string; againstKeychain?: boolean }) => {
        if (options.fromFile === undefined) {
          if (options.againstKeychain) throw new ValidationError('--against-keychain goes with --from-file');
          const status = await withAuditBackend(ctx, (backend) => backend.verify());
          ctx.out.result(status, () =>
            status.ok
              ? `Audit chain intact: ${status.events} event(s); head ${status.headSeq ?? '-'} ${status.headHash ?? ''}`.trimEnd()
              : `Audit chain BROKEN at event ${status.firstBadSeq}: ${status.reason} (${status.events} event(s) verified before it).`,
          );
          if (!status.ok) process.exitCode = EXIT.INTEGRITY;
          return;
        }
        const input = await openIn(options.fromFile);
        const verdict = options.againstKeychain
          ? await withAuditBackend(ctx, async (backend) => {
              const against = backend.localStore();
              if (against === null) throw new ValidationError('--against-keychain reads the local keychain: run it without --server, on the appliance');
              return verifyAuditFile(input, { against });
            })
          : await verifyAuditFile(input);
        ctx.out.result(verdict, () => fileVerdictText(verdict));
        if (!verdict.ok) process.exitCode = EXIT.INTEGRITY;
      }),
    );
}
