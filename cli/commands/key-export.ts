/**
 * `strongroom key export NAME (--rsa-public-key FILE | --wrap-key KEK)`: a
 * wrapped export (docs/protocol.md §6.5). Always dual-controlled (class
 * key-export): the command exits 12 with the request id; once other
 * officers approved, the requester's `approvals collect ID` prints the
 * wrapped bytes, once (printWrapped). The clear material never reaches the
 * CLI.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { MAX_PEM_LENGTH } from '../../protocol/op-schemas';
import { CommandContext, runCommand } from '../context';
import { ExportRequest, WrappedExport } from '../backend/backend';

interface ExportOptions {
  instance?: string;
  rsaPublicKey?: string;
  wrapKey?: string;
  wrapInstance?: string;
}

const HELP = `
A wrapped export gives a key instance's material wrapped under a key you
name, never in the clear:

  --rsa-public-key FILE   RSA-OAEP with SHA-256 (MGF1-SHA-256) under your
                          RSA public key (a PEM "BEGIN PUBLIC KEY", 2048 to
                          16384 bits), as AWS KMS and Azure Key Vault import
                          it (RSAES_OAEP_SHA_256). Unwrap it with
                          openssl pkeyutl -decrypt -inkey priv.pem
                            -pkeyopt rsa_padding_mode:oaep
                            -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
  --wrap-key KEK          AES key wrap with padding (RFC 5649) under an AES
                          key already in the appliance (its usage must allow
                          wrap-key; you need the encrypt permission on it):
                          a transport key another appliance also holds, which
                          imports the result with key register --unwrap-key.

It is always dual-controlled (class key-export, the quorum of a clear
export): the command exits 12 (APPROVAL_REQUIRED) with the request id.
Other officers run \`approvals show ID\`: it shows the key and instance
bound, and the wrapping key (the RSA key's SHA-256 fingerprint, or the AES
key's name and instance), which they compare with what they expect. If
either reference resolves elsewhere by the time you collect (an alias
re-pointed), nothing is exported (APPROVAL_TARGET_CHANGED). Then:
  $ strongroom approvals collect ID [--format base64|hex|raw]
prints the wrapped bytes once, with the key check value (kcv) of the
material, which the receiving side's approvers compare. The fingerprint of
your key: openssl pkey -pubin -in pub.pem -outform DER | sha256sum

Examples:
  $ strongroom --server 127.0.0.1:5700 key export hr/payroll --rsa-public-key ./receiver.pub.pem
  $ strongroom --server 127.0.0.1:5700 key export hr/payroll --wrap-key xfer/zmk
  $ strongroom --server 127.0.0.1:5700 approvals collect 0b7e6c1a-… --format raw > payroll.wrapped
Not in local mode (DUAL_CONTROL_LOCAL_MODE).`;

function readPublicKey(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ValidationError(`cannot read --rsa-public-key ${path}: ${(err as Error).message}`, { details: { field: 'rsa-public-key' } });
  }
  if (text.length > MAX_PEM_LENGTH) throw new ValidationError(`--rsa-public-key ${path} is larger than a public key PEM (${MAX_PEM_LENGTH} characters)`, { details: { field: 'rsa-public-key' } });
  return text;
}

/** The Export request the options describe; exactly one wrapping key. */
export function exportRequest(name: string | undefined, options: ExportOptions): ExportRequest {
  if (name === undefined && options.instance === undefined) throw new ValidationError('name a key or give --instance');
  if ((options.rsaPublicKey === undefined) === (options.wrapKey === undefined)) {
    throw new ValidationError('give exactly one of --rsa-public-key FILE (RSA-OAEP-SHA256) or --wrap-key KEK (AES key wrap, RFC 5649)', { details: { field: 'wrap-key' } });
  }
  if (options.wrapInstance !== undefined && options.wrapKey === undefined) throw new ValidationError('--wrap-instance goes with --wrap-key', { details: { field: 'wrap-instance' } });
  const key = { name, instance: options.instance };
  if (options.rsaPublicKey !== undefined) return { ...key, wrapMethod: 'RSA-OAEP-SHA256', wrapPublicKey: readPublicKey(options.rsaPublicKey) };
  return { ...key, wrapMethod: 'AES-KWP', wrapKey: options.wrapKey, wrapInstance: options.wrapInstance };
}

export function keyExportCommand(): Command {
  return new Command('export')
    .description('export a key instance wrapped under your RSA public key or an appliance AES key: dual-controlled (exit 12), then approvals collect prints the wrapped bytes')
    .argument('[name]', 'namespace/name (optional when --instance is given)')
    .option('-i, --instance <instance>', 'an instance name, to export an older instance')
    .option('--rsa-public-key <file>', 'wrap with RSA-OAEP-SHA256 under this RSA public key (PEM, 2048 bits or more)')
    .option('--wrap-key <kek>', 'wrap with AES key wrap (RFC 5649) under this appliance AES key')
    .option('--wrap-instance <instance>', 'with --wrap-key: that instance of it (default: its current one when the request is made)')
    .addHelpText('after', HELP)
    .action(
      runCommand(async (ctx, name: string | undefined, options: ExportOptions) => {
        await ctx.backend().exportKey(exportRequest(name, options));
      }),
    );
}

/** Prints a collected wrapped export in `format` (base64, hex, raw) and zeroes the bytes; `approvals collect` calls it. */
export function printWrapped(ctx: CommandContext, exported: WrappedExport, format: string): void {
  try {
    if (format === 'raw') {
      process.stdout.write(exported.wrapped);
      return;
    }
    const encoding = format as 'base64' | 'hex';
    const text = exported.wrapped.toString(encoding);
    const under = typeof exported.wrappingKey.fingerprint === 'string' ? `RSA key SHA-256 ${exported.wrappingKey.fingerprint}` : `${String(exported.wrappingKey.name)} instance ${String(exported.wrappingKey.instance)}`;
    ctx.out.result({ ...exported, encoding, wrapped: text }, () =>
      [`${exported.key.fullName} instance ${exported.instance.name} (kcv ${exported.kcv}, ${exported.kcvKind}), wrapped with ${exported.wrapMethod} under ${under}:`, text].join('\n'),
    );
  } finally {
    wipe(exported.wrapped);
  }
}
