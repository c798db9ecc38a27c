/**
 * `strongroom client issue|list|revoke`: client certificates of the appliance
 * CA. The key pair is made here, on the CLI's side: only the public key goes
 * to the appliance, and the private key is written 0600 to --out.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { generateClientKeyPair, toPkcs12 } from '../../client/credentials';
import { wire } from '../backend/wire-client';
import { runCommand } from '../context';
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
    .option('-o, --out <dir>', 'folder for NAME.crt, NAME.key (0600) and ca.pem', '.')
    .option('--validity-days <n>', 'certificate lifetime, 1-825 days (default 365)')
    .option('--p12', 'also write NAME.p12 (PKCS#12), encrypted with the passphrase from --passphrase-file or STRONGROOM_P12_PASSPHRASE')
    .option('--passphrase-file <file>', 'file holding the PKCS#12 passphrase')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom client issue payroll-app --role app --groups payroll --out ./certs
  $ strongroom client issue alice --role officer --out ./alice --p12 --passphrase-file ./pass.txt
  $ strongroom policy grant --group payroll --pattern 'hr/*' --permissions get,encrypt,decrypt`,
    )
    .action(
      runCommand(async (ctx, name: string, options: IssueOptions) => {
        const passphrase = options.p12 ? readPassphrase(options.passphraseFile) : undefined;
        for (const file of [`${name}.key`, `${name}.crt`, ...(options.p12 ? [`${name}.p12`] : [])].map((f) => join(options.out, f))) {
          if (existsSync(file)) throw new ValidationError(`${file} exists; remove it or choose another --out`);
        }
        const pair = generateClientKeyPair();
        const issued = await ctx.backend().issueClient({
          name,
          role: options.role,
          groups: options.groups ? options.groups.split(',').map((g) => g.trim()).filter(Boolean) : [],
          publicKeyPem: pair.publicKeyPem,
          validityDays: options.validityDays ? Number(options.validityDays) : undefined,
        });
        mkdirSync(options.out, { recursive: true, mode: 0o700 });
        const files: Record<string, string> = {
          certificate: join(options.out, `${name}.crt`),
          privateKey: join(options.out, `${name}.key`),
          ca: join(options.out, 'ca.pem'),
        };
        // 'wx': never overwrite, never follow a planted symlink; the mode applies because the file is new.
        writePrivate(files.privateKey, pair.privateKeyPem);
        writeFileSync(files.certificate, issued.certificatePem, { mode: 0o644, flag: 'wx' });
        writeFileSync(files.ca, issued.caPem, { mode: 0o644 });
        if (passphrase !== undefined) {
          files.pkcs12 = join(options.out, `${name}.p12`);
          // wire(): the client library's INVALID_ARGUMENT (a passphrase it cannot use) exits 2 like the CLI's own.
          const p12 = await wire(async () => toPkcs12({ certificatePem: issued.certificatePem, privateKeyPem: pair.privateKeyPem, caPem: issued.caPem, passphrase, friendlyName: name }));
          writePrivate(files.pkcs12, p12);
        }
        ctx.out.result({ client: issued.client, files }, () =>
          [`Issued ${issued.client.role} certificate for ${name} (valid until ${issued.client.notAfter})`, ...Object.entries(files).map(([k, v]) => `  ${k}: ${v}`)].join('\n'),
        );
      }),
    );
}

function writePrivate(path: string, content: string | Buffer): void {
  try {
    writeFileSync(path, content, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') throw new ValidationError(`${path} exists; remove it or choose another --out`, { cause });
    throw cause;
  }
  chmodSync(path, 0o600);
}

function readPassphrase(file: string | undefined): string {
  let text: string | undefined;
  try {
    text = file ? readFileSync(file, 'utf8').replace(/\r?\n$/, '') : process.env.STRONGROOM_P12_PASSPHRASE;
  } catch (cause) {
    throw new ValidationError(`cannot read the passphrase file ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
  if (!text) throw new ValidationError('--p12 needs a passphrase: --passphrase-file or STRONGROOM_P12_PASSPHRASE');
  return text;
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
  return new Command('client').description('issue, list and revoke client certificates').addCommand(issueCommand()).addCommand(listCommand()).addCommand(revokeCommand());
}
