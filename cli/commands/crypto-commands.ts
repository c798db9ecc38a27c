/**
 * `strongroom encrypt KEY` and `strongroom decrypt`: the Encrypt and Decrypt
 * operations for scripts, the way `vault write transit/encrypt` or `aws kms
 * encrypt` are used. Input from `--in FILE` or standard input, output to
 * `--out FILE` (cli/out-file.ts: no symbolic link, 0600) or standard output,
 * bytes as they are. The ciphertext is one self-describing line
 * (cli/ciphertext-text.ts) that decrypt takes back as is; the key never
 * leaves the appliance. Over the wire with an app's certificate
 * (`--server`, `--cert`, `--key`, `--ca`), or locally as the local
 * operator; either way the dispatcher decides (a grant of encrypt or
 * decrypt on the key).
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { CommandContext, runCommand } from '../context';
import { wire } from '../backend/wire-client';
import { readInput } from '../bounded-input';
import { formatCiphertext, MAX_CIPHERTEXT_TEXT, parseCiphertext } from '../ciphertext-text';
import { assertNotLink, writeOutFile } from '../out-file';

interface CryptoOptions {
  in?: string;
  out?: string;
  aad?: string;
}

const CONNECTION_HELP = `Over the wire, give the app's certificate: --server host:port --cert app.crt --key app.key --ca ca.pem
(global options, before the command). The client needs a grant (strongroom policy grant ... --permissions encrypt,decrypt);
without one the answer is PERMISSION_DENIED (exit 10), naming the permission.`;

function aadBytes(options: CryptoOptions): Buffer | undefined {
  return options.aad === undefined ? undefined : Buffer.from(options.aad, 'utf8');
}

function hintStdin(ctx: CommandContext, options: CryptoOptions, what: string): void {
  // A script pipes its input; a person at a terminal may not know the command is waiting for them.
  if ((options.in === undefined || options.in === '-') && process.stdin.isTTY) ctx.out.warn(`reading ${what} from standard input (end with Ctrl-D), or give --in FILE`);
}

/** Standard output or --out: bytes exactly as given (no newline added to a plaintext). */
function emit(options: CryptoOptions, bytes: Buffer): void {
  if (options.out !== undefined) writeOutFile(options.out, bytes);
  else process.stdout.write(bytes);
}

function encryptCommand(): Command {
  return new Command('encrypt')
    .description('encrypt a file or standard input under a key (the Encrypt operation: AES-GCM with the key\'s current instance); prints one line decrypt takes back')
    .argument('<name>', 'the key: namespace/name or an alias')
    .option('--in <file>', 'read the plaintext from this file (default: standard input; "-" for standard input)')
    .option('--out <file>', 'write the ciphertext line (or with --json the document) to this file, mode 0600, never through a symbolic link (default: standard output)')
    .option('--aad <text>', 'additional authenticated data bound to the ciphertext: decrypt must give the same --aad')
    .addHelpText(
      'after',
      `
The output is one line, "strongroom:v1:<key>[:aad]:<base64>", holding the key's name (an alias resolved) and the ciphertext
the appliance returned (its instance, IV and tag inside): it decrypts after a rollover too. With --json:
{ key, instance, aad, ciphertext } (ciphertext is the same line); decrypt accepts either.
Up to 64 KiB of plaintext: for larger files use a data key (GenerateDataKey in the client library).

${CONNECTION_HELP}

Examples:
  $ strongroom --server 127.0.0.1:5700 --cert app.crt --key app.key --ca ca.pem encrypt hr/payroll --in salary.csv --out salary.csv.sr
  $ echo -n 's3cret' | strongroom encrypt hr/payroll --aad employee=42 > secret.sr`,
    )
    .action(
      runCommand(async (ctx, name: string, options: CryptoOptions) => {
        if (options.out !== undefined) assertNotLink(options.out); // before the request: its audit event is not wasted on a refused file
        hintStdin(ctx, options, 'the plaintext');
        const plaintext = await readInput(options.in);
        const aad = aadBytes(options);
        let result: { ciphertext: string; instance: string; key?: string };
        try {
          const requester = ctx.requester();
          result = await wire(() => requester.request<{ ciphertext: string; instance: string; key?: string }>('Encrypt', { name, plaintext, ...(aad ? { aad } : {}) }));
        } finally {
          wipe(plaintext);
        }
        // The key the appliance used (an alias resolved): the line still decrypts after the alias moves to another key.
        const key = result.key ?? name;
        const line = formatCiphertext({ key, aad: aad !== undefined, ciphertext: Buffer.from(result.ciphertext, 'base64') });
        const document = { key, instance: result.instance, aad: aad !== undefined, ciphertext: line };
        const text = ctx.out.json ? `${JSON.stringify(document, null, 2)}\n` : `${line}\n`;
        emit(options, Buffer.from(text, 'utf8'));
      }),
    );
}

function decryptCommand(): Command {
  return new Command('decrypt')
    .description('decrypt what strongroom encrypt printed (the Decrypt operation, on the key the line names); writes the plaintext bytes as they are')
    .option('--in <file>', 'read the ciphertext line (or encrypt\'s --json document) from this file (default: standard input; "-" for standard input)')
    .option('--out <file>', 'write the plaintext to this file, mode 0600, never through a symbolic link (default: standard output)')
    .option('--aad <text>', 'the additional authenticated data given to encrypt (required when the line says ":aad:")')
    .addHelpText(
      'after',
      `
The plaintext is written byte for byte (binary-safe, no newline added). With --json: { key, instance,
plaintext } (base64) on standard output; with --json and --out the file gets the bytes and standard
output { key, instance, bytes, out }.

${CONNECTION_HELP}

Examples:
  $ strongroom --server 127.0.0.1:5700 --cert app.crt --key app.key --ca ca.pem decrypt --in salary.csv.sr --out salary.csv
  $ strongroom decrypt --aad employee=42 < secret.sr`,
    )
    .action(
      runCommand(async (ctx, options: CryptoOptions) => {
        if (options.out !== undefined) assertNotLink(options.out);
        hintStdin(ctx, options, 'the ciphertext');
        const input = await readInput(options.in, MAX_CIPHERTEXT_TEXT);
        const sealed = parseCiphertext(input.toString('utf8'));
        const aad = aadBytes(options);
        // Said before the request: the appliance could only answer INTEGRITY_FAILURE, which does not say why.
        if (sealed.aad && aad === undefined) throw new ValidationError('this ciphertext was made with --aad: give decrypt the same --aad');
        if (!sealed.aad && aad !== undefined) throw new ValidationError('this ciphertext was made without --aad: leave --aad out');
        const requester = ctx.requester();
        const result = await wire(() => requester.request<{ plaintext: string; instance: string }>('Decrypt', { name: sealed.key, ciphertext: sealed.ciphertext, ...(aad ? { aad } : {}) }));
        const plaintext = Buffer.from(result.plaintext, 'base64');
        try {
          if (!ctx.out.json) emit(options, plaintext);
          else if (options.out !== undefined) {
            writeOutFile(options.out, plaintext);
            ctx.out.result({ key: sealed.key, instance: result.instance, bytes: plaintext.length, out: options.out }, () => '');
          } else ctx.out.result({ key: sealed.key, instance: result.instance, plaintext: result.plaintext }, () => '');
        } finally {
          wipe(plaintext);
        }
      }),
    );
}

export function encryptCommands(): Command[] {
  return [encryptCommand(), decryptCommand()];
}
