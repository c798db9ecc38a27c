/**
 * `strongroom approvals list|show|approve|deny|cancel|collect|quorums|set-quorum`:
 * dual control from the CLI (docs/strongroom.1.md). A sensitive command
 * (key destroy, client revoke, a grant of material, an officer's key get…)
 * answers APPROVAL_REQUIRED with a request id; other officers read the
 * request in full with `show` and approve the digest it shows. Votes need
 * --server and an officer certificate (local mode refuses them). The
 * requester collects an approved export's material, or an issued client's
 * certificate (written beside the private key `client issue` kept).
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { DUAL_CONTROL_CLASSES, MAX_QUORUM } from '../../protocol/op-schemas';
import { runCommand } from '../context';
import { table } from '../output';
import { printRetrieved } from './key-get';
import { printWrapped } from './key-export';
import { describeApproval, restoreTargetLines, targetCell } from './approval-text';
import { clientFiles, filesText, readKeptKey, readPassphrase, writeIssued } from './client-files';

const DIGEST = /^[0-9a-f]{64}$/;

function listCommand(): Command {
  return new Command('list')
    .description('list approval requests, newest first: one line each (what, on which key or client, who asked, votes, expiry); approvals show ID has the rest')
    .option('-s, --state <state>', 'open (pending or approved), pending, approved, executing, executed, failed, denied, cancelled or expired')
    .option('--mine', 'only my own requests')
    .option('-n, --limit <n>', 'at most this many (1-500)', '100')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server 127.0.0.1:5700 approvals list --state open
  $ strongroom --server 127.0.0.1:5700 approvals list --mine --json

TARGET is what the request acts on as the server resolved it: the key it is
bound to (its canonical name, not the alias typed), the client it issues or
revokes, the grant it makes. VOTES is approvals so far / approvals needed.
An open backup restore (pending or approved) is spelled out below the
table: the backup file, its SHA-256, keychain, audit head, trust counter,
signer and whether it is older than the current keychain.
--json prints { "requests": [request, …] }, the wire's ApprovalList answer
(docs/protocol.md §6.3), arguments in full.`,
    )
    .action(
      runCommand(async (ctx, options: { state?: string; mine?: boolean; limit: string }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new ValidationError('--limit is a whole number from 1 to 500');
        const requests = await ctx.backend().listApprovals({ state: options.state, mine: options.mine, limit });
        // An open restore's target does not fit a cell: what approvers decide on is spelled out below the table.
        const openRestores = requests.filter((r) => r.operation === 'BackupRestore' && (r.state === 'pending' || r.state === 'approved'));
        ctx.out.result({ requests }, () =>
          requests.length === 0
            ? 'No approval requests.'
            : [
                table(
                  ['ID', 'STATE', 'OPERATION', 'TARGET', 'REQUESTER', 'VOTES', 'EXPIRES'],
                  requests.map((r) => [r.id, r.state, r.operation, targetCell(r), r.requester, `${r.approvals}/${r.required}`, r.expiresAt]),
                ),
                ...openRestores.flatMap((r) => ['', `Restore ${r.id} (${r.state}, ${r.approvals}/${r.required}) replaces the keychain with:`, ...restoreTargetLines(r, '  ')]),
              ].join('\n'),
        );
      }),
    );
}

function showCommand(): Command {
  return new Command('show')
    .description('show a request in full: what will run (for a key, the key and instance it is bound to), its digest, the votes and the outcome')
    .argument('<id>', 'request id')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server 127.0.0.1:5700 approvals show 0b7e6c1a-…
  $ strongroom --server 127.0.0.1:5700 approvals show 0b7e6c1a-… --json

Arguments are shown one per line; a PEM is shown as what identifies it (a
certificate's subject and SHA-256 fingerprint, a public key's type and
SHA-256 fingerprint), never as its text. A backup restore's target (file,
SHA-256, keychain, audit head, trust counter, signer, older) is shown one
fact a line. --json prints { "request": … },
the wire's ApprovalGet answer (docs/protocol.md §6.3), arguments in full.`,
    )
    .action(
      runCommand(async (ctx, id: string) => {
        const request = await ctx.backend().getApproval(id);
        ctx.out.result({ request }, () => describeApproval(request));
      }),
    );
}

function approveCommand(): Command {
  return new Command('approve')
    .description('approve a request: give the digest `show` printed, so that what runs is what you read')
    .argument('<id>', 'request id')
    .option('-d, --digest <sha256>', 'the digest of the request, as shown by approvals show')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server 127.0.0.1:5700 approvals show 0b7e6c1a-…
  $ strongroom --server 127.0.0.1:5700 approvals approve 0b7e6c1a-… --digest 3f9a…

Without --digest it prints the request and the command to approve it, and
approves nothing (exit 2). The requester cannot approve, nor can an officer
whose own rights the request changes.`,
    )
    .action(
      runCommand(async (ctx, id: string, options: { digest?: string }) => {
        const backend = ctx.backend();
        if (options.digest === undefined) {
          const request = await backend.getApproval(id);
          if (!ctx.out.json) process.stdout.write(`${describeApproval(request)}\n`);
          throw new ValidationError(`read the request above, then approve it with --digest ${request.digest}`, { details: { digest: request.digest } });
        }
        if (!DIGEST.test(options.digest)) throw new ValidationError('--digest is the 64 hex digits approvals show prints');
        const request = await backend.approve(id, options.digest);
        ctx.out.result({ request }, () => describeApproval(request));
      }),
    );
}

function denyCommand(): Command {
  return new Command('deny')
    .description('deny a request (any officer); it will never run')
    .argument('<id>', 'request id')
    .requiredOption('-r, --reason <text>', 'why, for the audit trail')
    .addHelpText('after', `\nExample:\n  $ strongroom --server 127.0.0.1:5700 approvals deny 0b7e6c1a-… --reason 'change freeze'`)
    .action(
      runCommand(async (ctx, id: string, options: { reason: string }) => {
        const request = await ctx.backend().deny(id, options.reason);
        ctx.out.result({ request }, () => describeApproval(request));
      }),
    );
}

function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel your own request')
    .argument('<id>', 'request id')
    .addHelpText('after', `\nExample:\n  $ strongroom --server 127.0.0.1:5700 approvals cancel 0b7e6c1a-…`)
    .action(
      runCommand(async (ctx, id: string) => {
        const request = await ctx.backend().cancelApproval(id);
        ctx.out.result({ request }, () => describeApproval(request));
      }),
    );
}

interface CollectOptions {
  format: string;
  out: string;
  p12?: boolean;
  passphraseFile?: string;
}

function collectCommand(): Command {
  return new Command('collect')
    .description('collect your approved request: a key export\'s material or a wrapped export\'s bytes (printed once; never stored), or the certificate of a client issue, written beside the private key kept in --out')
    .argument('<id>', 'request id')
    .option('-f, --format <fmt>', 'key export or wrapped export: base64, hex or raw', 'base64')
    .option('-o, --out <dir>', 'client issue or renew: the --out it used, where NAME.key was kept (certificate and ca.pem written 0600 beside it)', '.')
    .option('--p12', 'client issue: also write NAME.p12, encrypted with the passphrase from --passphrase-file or STRONGROOM_P12_PASSPHRASE')
    .option('--passphrase-file <file>', 'client issue: file holding the PKCS#12 passphrase')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server 127.0.0.1:5700 approvals collect 0b7e6c1a-… --format hex
  $ strongroom --server 127.0.0.1:5700 approvals collect 0b7e6c1a-… --out ./certs`,
    )
    .action(
      runCommand(async (ctx, id: string, options: CollectOptions) => {
        if (!['base64', 'hex', 'raw'].includes(options.format)) throw new ValidationError('--format is base64, hex or raw');
        if (options.format === 'raw' && ctx.out.json) throw new ValidationError('--format raw cannot be combined with --json');
        const passphrase = options.p12 ? readPassphrase(options.passphraseFile) : undefined;
        const collected = await ctx.backend().collect(id);
        if (collected.kind === 'key') {
          printRetrieved(ctx, collected.key, options.format);
          return;
        }
        if (collected.kind === 'wrapped') {
          printWrapped(ctx, collected.exported, options.format);
          return;
        }
        const { issued } = collected;
        const files = clientFiles(options.out, issued.client.name, passphrase !== undefined);
        const privateKeyPem = readKeptKey(files.privateKey, issued.certificatePem);
        await writeIssued(files, issued, privateKeyPem, passphrase);
        ctx.out.result({ client: issued.client, files }, () =>
          [`Collected the ${issued.client.role} certificate for ${issued.client.name} (valid until ${issued.client.notAfter})`, ...filesText(files)].join('\n'),
        );
      }),
    );
}

function quorumsCommand(): Command {
  return new Command('quorums')
    .description('the approvals each dual-controlled class needs')
    .addHelpText('after', `\nExample:\n  $ strongroom --server 127.0.0.1:5700 approvals quorums --json`)
    .action(
      runCommand(async (ctx) => {
        const quorums = await ctx.backend().quorums();
        ctx.out.result(quorums, () => table(['CLASS', 'REQUIRED', 'SET BY', 'AT'], quorums.map((q) => [q.class, String(q.required), q.updatedBy, q.updatedAt ?? '-'])));
      }),
    );
}

function setQuorumCommand(): Command {
  return new Command('set-quorum')
    .description('change the approvals a class needs (itself dual-controlled: quorum-change)')
    .argument('<class>', `${DUAL_CONTROL_CLASSES.slice(0, -1).join(', ')} or ${DUAL_CONTROL_CLASSES[DUAL_CONTROL_CLASSES.length - 1]}`)
    .argument('<required>', `approvals needed, 1-${MAX_QUORUM}`)
    .addHelpText('after', `\nExample:\n  $ strongroom --server 127.0.0.1:5700 approvals set-quorum key-destroy 3`)
    .action(
      runCommand(async (ctx, dualControlClass: string, required: string) => {
        const n = Number(required);
        if (!Number.isInteger(n) || n < 1 || n > MAX_QUORUM) throw new ValidationError(`<required> is a whole number from 1 to ${MAX_QUORUM}`);
        const quorum = await ctx.backend().setQuorum(dualControlClass, n);
        ctx.out.result({ quorum }, () => `${quorum.class} now needs ${quorum.required} approval(s)`);
      }),
    );
}

export function approvalsCommand(): Command {
  const command = new Command('approvals').description('dual control: requests waiting for officers, and their quorums');
  for (const sub of [listCommand(), showCommand(), approveCommand(), denyCommand(), cancelCommand(), collectCommand(), quorumsCommand(), setQuorumCommand()]) command.addCommand(sub);
  return command;
}
