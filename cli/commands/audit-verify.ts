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
import type { ChainStatus } from '../../client/types';
import { withAuditBackend } from '../backend/audit-backend';
import { runCommand } from '../context';
import { FileVerdict, verifyExportFile } from '../offline/offline-audit';

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

/** `--expect seq:hash` (the lastCheckpoint of an earlier verification). */
function parseAnchor(text: string): { seq: number; hash: Buffer } {
  const match = /^(\d+):([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!match || !Number.isSafeInteger(Number(match[1])) || Number(match[1]) < 1) {
    throw new ValidationError(`--expect "${text}" is not seq:hash (a seq and the 64 hex digits of its chain hash, as \`audit verify --json\` prints in lastCheckpoint)`);
  }
  return { seq: Number(match[1]), hash: Buffer.from(match[2], 'hex') };
}

/**
 * Checkpoints whose signatures were checked against no key, or against the
 * key the keychain file itself records, prove nothing against someone who
 * can rewrite that file: verification fails unless the operator accepts it.
 */
function untrustedKeyRefused(status: ChainStatus, acceptKeychainKey: boolean): ChainStatus {
  if (!status.ok || status.checkpoints === 0) return status;
  const source = status.signingKey.source;
  if (source === 'none' || (source === 'keychain-file' && !acceptKeychainKey)) {
    const why = source === 'none' ? 'no signing key could be read to check them' : 'they were checked only against the key recorded in the keychain file itself';
    return { ...status, ok: false, reason: `the trail's ${status.checkpoints} checkpoint(s) are not verified against a trusted key: ${why}. Pass --public-key with the copy you kept (\`strongroom audit public-key\`), run where the HSM is reachable, or accept this with --accept-keychain-key` };
  }
  return status;
}

function chainStatusText(status: ChainStatus): string {
  if (!status.ok && status.firstBadSeq === undefined) return `Audit trail NOT VERIFIED: ${status.reason}`;
  if (!status.ok) return `Audit trail BROKEN at event ${status.firstBadSeq}: ${status.reason} (${status.events} event(s) verified before it).`;
  const signed =
    status.checkpoints === 0
      ? 'no signed checkpoint yet (the server signs one at start, every audit_checkpoint_interval_ms and at shutdown)'
      : `${status.checkpoints} signed checkpoint(s), the newest at event ${status.lastCheckpointSeq}; ${status.unsignedTail} newer event(s) covered by the chain only`;
  const lines = [`Audit trail intact: ${status.events} event(s), ${signed}; head ${status.headSeq ?? '-'} ${status.headHash ?? ''}`.trimEnd()];
  if (status.signingKey.source === 'keychain-file') lines.push('warning: signatures were checked against the key recorded in the keychain file (the HSM was not reachable); pass --public-key with a copy you trust');
  if (!status.signaturesChecked && status.checkpoints > 0) lines.push("warning: no signing key to check the checkpoints' signatures with; pass --public-key");
  if (status.signingKey.fingerprint !== null) lines.push(`Signing key ${status.signingKey.fingerprint} (from ${status.signingKey.source}).`);
  if (status.lastCheckpoint !== null) lines.push(`Anchor to keep for the next verification: --expect ${status.lastCheckpoint.seq}:${status.lastCheckpoint.hash}`);
  return lines.join('\n');
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
    .option('--public-key <file>', 'the checkpoint signing key to trust (from `strongroom audit public-key`; local mode); default: ask the HSM')
    .option('--expect <seq:hash>', 'an anchor you kept from an earlier verify (its lastCheckpoint): the trail must still hold that hash at that seq (repeatable; local mode)', (value: string, all: string[] = []) => [...all, value])
    .option('--accept-keychain-key', 'when the HSM cannot be reached, accept checkpoint signatures checked against the key recorded in the keychain file itself (otherwise exit 7)')
    .addHelpText(
      'after',
      `
The keychain's trail is checked twice: the hash chain proves the events
present were not edited, reordered or removed from the middle; the
HSM-signed checkpoints prove it was not cut short or rebuilt. Locally the
signing key comes from --public-key, else the HSM; a key read from the
keychain file itself proves nothing against whoever can rewrite that file,
so verification then fails (exit 7) unless --accept-keychain-key is given.
Over the wire the appliance uses its HSM's key.

The server never signs a chain that does not extend the head it signed
last; it records an audit-integrity-failure event instead, and a trail
holding one fails, as does a trail with a server-start but no checkpoint.
Stored checkpoints cannot show a trail cut back together with its newest
checkpoints, a file rolled back to an older copy, or a trail rebuilt with
every checkpoint and server start removed while no server ran: keep the
\`lastCheckpoint\` a verification prints (seq:hash) and pass it next time
with --expect.

A file from an unfiltered export verifies from its first line (genesis when
it starts at event 1). A filtered export has gaps by design: verify names
the first missing event. A line that is not an audit line exits 2 with its
number.

Examples:
  $ strongroom audit verify --json
  $ strongroom audit public-key > signing-key.pem      # keep this copy apart
  $ strongroom audit verify --public-key signing-key.pem
  $ strongroom audit verify --public-key signing-key.pem --expect 1200:9f2c…e1    # the anchor kept last time
  $ strongroom audit verify --from-file audit-2026-11.jsonl
  $ strongroom audit verify --from-file audit-from-120001.jsonl --against-keychain
  $ cat siem-export.jsonl | strongroom audit verify --from-file -
  $ strongroom --server 127.0.0.1:5700 --cert auditor.crt --key auditor.key audit verify`,
    )
    .action(
      runCommand(async (ctx, options: { fromFile?: string; againstKeychain?: boolean; publicKey?: string; expect?: string[]; acceptKeychainKey?: boolean }) => {
        if (options.fromFile === undefined) {
          if (options.againstKeychain) throw new ValidationError('--against-keychain goes with --from-file');
          const anchors = (options.expect ?? []).map(parseAnchor);
          const verified = await withAuditBackend(ctx, (backend) => backend.verify({ publicKeyFile: options.publicKey, anchors }));
          const status = untrustedKeyRefused(verified, options.acceptKeychainKey === true);
          ctx.out.result(status, () => chainStatusText(status));
          if (!status.ok) process.exitCode = EXIT.INTEGRITY;
          return;
        }
        const input = await openIn(options.fromFile);
        const verdict = await verifyExportFile(ctx, input, { againstKeychain: options.againstKeychain === true });
        ctx.out.result(verdict, () => fileVerdictText(verdict));
        if (!verdict.ok) process.exitCode = EXIT.INTEGRITY;
      }),
    );
}
