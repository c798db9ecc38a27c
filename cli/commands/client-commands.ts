/**
 * `strongroom client issue|renew|list|revoke`: client certificates of the appliance
 * CA. The key pair is made here, on the CLI's side: only the public key goes
 * to the appliance, and the private key is written 0600 to --out before the
 * request is sent. An issue that officers must approve (an officer, or an app
 * that an existing grant gives material) keeps it there while the request
 * waits; `approvals collect ID --out DIR` writes the certificate beside it.
 */
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { ErrorDetails, StrongroomError } from '../../common/errors';
import { generateClientKeyPair } from '../../client/credentials';
import { IssuedCertificate, RenewedClientCertificate } from '../backend/backend';
import { writeOutFile } from '../out-file';
import { assertWritable, clientFiles, filesText, readPassphrase, writeIssued } from './client-files';
import { runCommand } from '../context';
import { publicKeyFingerprint } from './approval-text';
import { table } from '../output';

interface IssueOptions {
  role: string;
  groups?: string;
  out: string;
  validityDays?: string;
  p12?: boolean;
  passphraseFile?: string;
}

function issueCommand(): Command {
  return new Command('issue')
    .description('issue a client certificate (app, officer or auditor) and write its key pair to --out')
    .argument('<name>', 'client name: letters, digits, ".", "_", "-"')
    .requiredOption('-r, --role <role>', 'app, officer or auditor')
    .option('-g, --groups <list>', 'comma list of groups (grants can name groups)')
    .option('-o, --out <dir>', 'folder for NAME.key, NAME.crt and ca.pem (all 0600; a symbolic link is refused)', '.')
    .option('--validity-days <n>', 'certificate lifetime, 1-825 days (default 365)')
    .option('--p12', 'also write NAME.p12 (PKCS#12), encrypted with the passphrase from --passphrase-file or STRONGROOM_P12_PASSPHRASE')
    .option('--passphrase-file <file>', 'file holding the PKCS#12 passphrase')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom client issue payroll-app --role app --groups payroll --out ./certs
  $ strongroom client issue alice --role officer --out ./alice --p12 --passphrase-file ./pass.txt
  $ strongroom policy grant --group payroll --pattern 'hr/*' --permissions get,encrypt,decrypt

Issuing an officer, or an app that an existing grant (to its name or one of
its groups) gives key material, needs officers' approval (exit 12): NAME.key
is kept in --out while the request waits, and once it is approved
\`strongroom approvals collect ID --out DIR\` writes NAME.crt and ca.pem
(and NAME.p12 with --p12) beside it.`,
    )
    .action(
      runCommand(async (ctx, name: string, options: IssueOptions) => {
        const { passphrase, files, made, pair } = newKeyFiles(name, options);
        let issued: IssuedCertificate;
        try {
          issued = await ctx.backend().issueClient({
            name,
            role: options.role,
            groups: options.groups ? options.groups.split(',').map((g) => g.trim()).filter(Boolean) : [],
            publicKeyPem: pair.publicKeyPem,
            validityDays: options.validityDays ? Number(options.validityDays) : undefined,
          });
        } catch (err) {
          throw keptOrRemoved(err, files.privateKey, made, options, pair.publicKeyPem);
        }
        await writeIssued(files, issued, pair.privateKeyPem, passphrase);
        ctx.out.result({ client: issued.client, files }, () =>
          [`Issued ${issued.client.role} certificate for ${name} (valid until ${issued.client.notAfter})`, ...filesText(files)].join('\n'),
        );
      }),
    );
}

/**
 * After a failed issue: APPROVAL_REQUIRED keeps the private key for the
 * collect, and says where it is and what to run (its details gain
 * `privateKey`); any other failure removes the key, whose certificate will
 * never exist, and the folders this command made for it (`made`, the first
 * one mkdir created), if they are empty.
 */
function keptOrRemoved(err: unknown, keyFile: string, made: string | undefined, options: IssueOptions, publicKeyPem: string): unknown {
  const code = (err as { code?: unknown }).code;
  const details = (err as { details?: ErrorDetails }).details ?? {};
  if (code !== 'APPROVAL_REQUIRED' || typeof details.requestId !== 'string') {
    rmSync(keyFile, { force: true });
    if (made !== undefined) removeEmptyFolders(resolve(options.out), resolve(made));
    return err;
  }
  const collect = `strongroom approvals collect ${details.requestId} --out ${options.out}${options.p12 ? ' --p12' : ''}`;
  // Approvers see this fingerprint in `approvals show`: the requester tells it to them, so they approve the key that is in this file.
  const publicKeySha256 = publicKeyFingerprint(publicKeyPem);
  return new StrongroomError(
    'APPROVAL_REQUIRED',
    `${(err as Error).message}. The private key is kept in ${keyFile} (0600; its public key SHA-256 ${publicKeySha256}, which approvers see in approvals show); once approved, run \`${collect}\` to write the certificate beside it`,
    { cause: err, details: { ...details, privateKey: keyFile, publicKeySha256 } },
  );
}

/** rmdir from `folder` up to and including `top`, stopping at the first that is not empty. */
function removeEmptyFolders(folder: string, top: string): void {
  for (let at = folder; at.startsWith(top); at = dirname(at)) {
    try {
      rmdirSync(at);
    } catch {
      return;
    }
    if (at === top) return;
  }
}

function renewCommand(): Command {
  return new Command('renew')
    .description("renew a client's certificate: a new key pair, same name, role and groups; the old certificate stops working at once")
    .argument('<name>', 'client name')
    .option('-o, --out <dir>', 'folder for the new NAME.key, NAME.crt and ca.pem (all 0600; existing key or certificate files are refused)', '.')
    .option('--validity-days <n>', 'certificate lifetime, 1-825 days (default 365)')
    .option('--p12', 'also write NAME.p12 (PKCS#12), encrypted with the passphrase from --passphrase-file or STRONGROOM_P12_PASSPHRASE')
    .option('--passphrase-file <file>', 'file holding the PKCS#12 passphrase')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom client renew payroll-app --out ./certs-2027
  $ strongroom --server kms.lan:5700 client renew alice --out ./alice-new

A new key pair is made here (the old private key is never trusted again) and
the client keeps its name, role, groups and grants. From the moment the
renewal runs, the old certificate is refused at the next connection, and the
connections open with it are closed (as \`client revoke\` closes them).
Install the new files, then restart the client. A revoked client cannot be
renewed.

Renewing an officer (its own certificate too), or an app that a grant gives
key material, needs officers' approval (exit 12), as issuing it does: NAME.key
is kept in --out while the request waits, and once it is approved
\`strongroom approvals collect ID --out DIR\` writes NAME.crt beside it.`,
    )
    .action(
      runCommand(async (ctx, name: string, options: Omit<IssueOptions, 'role' | 'groups'>) => {
        const { passphrase, files, made, pair } = newKeyFiles(name, options);
        let renewed: RenewedClientCertificate;
        try {
          renewed = await ctx.backend().renewClient({ name, publicKeyPem: pair.publicKeyPem, validityDays: options.validityDays ? Number(options.validityDays) : undefined });
        } catch (err) {
          throw keptOrRemoved(err, files.privateKey, made, { ...options, role: '' }, pair.publicKeyPem);
        }
        await writeIssued(files, renewed, pair.privateKeyPem, passphrase);
        ctx.out.result({ client: renewed.client, previous: renewed.previous, files }, () =>
          [
            `Renewed ${renewed.client.role} certificate for ${name} (serial ${renewed.client.serialNumber}, valid until ${renewed.client.notAfter})`,
            `  the old certificate (serial ${renewed.previous.serialNumber}) is no longer accepted`,
            ...filesText(files),
          ].join('\n'),
        );
      }),
    );
}

/**
 * A new key pair for NAME, its private key already in --out (0600, never
 * over an existing file) before any request leaves: if officers must
 * approve, the key waits with the request (issue and renew alike).
 */
function newKeyFiles(name: string, options: { out: string; p12?: boolean; passphraseFile?: string }) {
  const passphrase = options.p12 ? readPassphrase(options.passphraseFile) : undefined;
  const files = clientFiles(options.out, name, Boolean(options.p12));
  assertWritable(files);
  const made = mkdirSync(options.out, { recursive: true, mode: 0o700 });
  const pair = generateClientKeyPair();
  writeOutFile(files.privateKey, pair.privateKeyPem, { exclusive: true });
  return { passphrase, files, made, pair };
}

function listCommand(): Command {
  return new Command('list')
    .description('list client certificates: name, role, groups, validity, revocation')
    .action(
      runCommand(async (ctx) => {
        const clients = await ctx.backend().listClients();
        ctx.out.result(clients, () =>
          table(
            ['NAME', 'ROLE', 'GROUPS', 'NOT AFTER', 'REVOKED'],
            clients.map((c) => [c.name, c.role, c.groups.join(',') || '-', c.notAfter, c.revokedAt ?? '']),
          ),
        );
      }),
    );
}

function revokeCommand(): Command {
  return new Command('revoke')
    .description('revoke a client: refused at its next handshake, and its open connections are closed')
    .argument('<name>', 'client name')
    .action(
      runCommand(async (ctx, name: string) => {
        const client = await ctx.backend().revokeClient(name);
        ctx.out.result({ client }, () => `Revoked ${client.name} (${client.role}) at ${client.revokedAt}`);
      }),
    );
}

export function clientCommand(): Command {
  return new Command('client')
    .description('issue, renew, list and revoke client certificates')
    .addCommand(issueCommand())
    .addCommand(renewCommand())
    .addCommand(listCommand())
    .addCommand(revokeCommand());
}
