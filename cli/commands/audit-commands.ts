/**
 * `strongroom audit verify|tail`: checks the audit chain and names the first
 * event where it breaks; prints the latest events. Local mode (the keychain
 * file is read directly, no HSM needed).
 */
import { Command } from 'commander';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';
import { TrailVerdict, verifyTrail } from '../../domain/audit/audit-verify';
import { runCommand } from '../context';
import { TrustedKey, trustedSigningKey } from './audit-trust';

function describeVerdict(verdict: TrailVerdict, trust: TrustedKey): string {
  if (!verdict.ok) return `Audit trail BROKEN at event ${verdict.firstBadSeq}: ${verdict.reason} (${verdict.events} event(s) verified before it).`;
  const signed =
    verdict.checkpoints === 0
      ? 'no signed checkpoint yet (the server signs one every audit_checkpoint_interval_ms and at shutdown)'
      : `${verdict.checkpoints} signed checkpoint(s), the newest at event ${verdict.lastCheckpointSeq}; ${verdict.unsignedTail} newer event(s) covered by the chain only`;
  const lines = [`Audit trail intact: ${verdict.events} event(s), ${signed}.`];
  if (trust.source === 'keychain-file') lines.push('warning: signatures were checked against the key recorded in the keychain file (the HSM was not reachable); pass --public-key with a copy you trust');
  if (trust.source === 'none' && verdict.checkpoints > 0) lines.push('warning: no signing key to check the checkpoints\' signatures with; pass --public-key');
  if (trust.publicKeyPem !== null) lines.push(`Signing key ${publicKeyFingerprint(trust.publicKeyPem)} (from ${trust.source}).`);
  return lines.join('\n');
}

export function auditCommand(): Command {
  const verify = new Command('verify')
    .description('check the audit hash chain and its HSM-signed checkpoints; exit 7 and name the first event where the trail was altered, deleted, reordered, rewritten or truncated')
    .option('--public-key <file>', 'the signing public key to trust (from `strongroom audit public-key`); default: ask the HSM')
    .addHelpText(
      'after',
      `
The chain proves the events present were not edited, reordered or removed
from the middle; the signed checkpoints prove the trail was not cut short or
rebuilt. The signing key is taken from --public-key, else from the HSM, else
(with a warning) from the keychain file itself.

Examples:
  $ strongroom audit verify
  $ strongroom audit public-key > signing-key.pem     # keep this copy apart
  $ strongroom audit verify --public-key signing-key.pem --json`,
    )
    .action(
      runCommand(async (ctx, options: { publicKey?: string }) => {
        const appliance = ctx.open({ readonly: true });
        const trust = await trustedSigningKey(appliance, options.publicKey);
        const keychainId = appliance.store.getMeta()?.keychainId ?? '';
        const verdict = verifyTrail(appliance.store.audit, { keychainId, publicKeyPem: trust.publicKeyPem });
        const fingerprint = trust.publicKeyPem === null ? null : publicKeyFingerprint(trust.publicKeyPem);
        ctx.out.result({ ...verdict, signingKey: { source: trust.source, fingerprint } }, () => describeVerdict(verdict, trust));
        if (!verdict.ok) process.exitCode = 7;
      }),
    );
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
  return new Command('audit').description('the tamper-evident audit trail').addCommand(verify).addCommand(publicKey).addCommand(tail);
}
