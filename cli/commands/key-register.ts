/**
 * `strongroom key register NAME`: a key from material the caller supplies.
 * A SECRET (material the appliance cannot generate) registers at once; AES,
 * HMAC or CHACHA20 material is a key import that other officers approve
 * (dual-control class key-import, operations/key-import.ts): the command
 * exits 12 with the request, whose view shows the key check value. It says
 * what it stored (length, trailing newline) without printing the bytes.
 */
import { Command } from 'commander';
import { wipe } from '../../common/secret';
import { runCommand } from '../context';
import { addMaterialFormatOptions, describeMaterial, MaterialOptions, newlineWarning, readMaterial } from '../material-input';
import { activationNote, renderKey } from './key-format';
import { addKeySpecOptions, keyArgsFrom, KeySpecOptions } from './key-spec-options';

type RegisterOptions = KeySpecOptions & MaterialOptions & { unwrapKey?: string; unwrapInstance?: string };

/** Why the bytes are kept as given: the --help of register and rollover says it. */
export const NEWLINE_HELP = `
The material is stored byte for byte: a trailing newline (from echo, or a
text file) is kept unless you give --strip-newline, because the appliance
cannot tell it from a binary secret that happens to end in 0x0A, and a
silently altered secret no longer matches its other copy. The command says
how many bytes it stored and whether they end with a newline (never the
bytes), and warns when they do.`;

/** What an import of generated-algorithm material does: the --help says it. */
const IMPORT_HELP = `
Key import: material of an algorithm the appliance generates (AES-*, HMAC-*,
CHACHA20) is imported only under dual control (class key-import), so no one
person plants a key. The command exits 12 (APPROVAL_REQUIRED) with the
request id; other officers run \`approvals show ID\`, which prints the key's
name, algorithm, length and key check value (kcv): for AES the ANSI
X9.24-1 KCV (AES-CMAC of a zero block, 10 hex digits), for HMAC and
CHACHA20 the first 5 bytes of SHA-256 of the material (kcvKind says which).
They compare it with the one the key custodian gives them, then approve.
The material is stored only sealed under the keychain key and is erased
from the request when it ends. Not in local mode (DUAL_CONTROL_LOCAL_MODE).

Wrapped import: with --unwrap-key KEK the input is material wrapped with
AES key wrap with padding (RFC 5649) under that appliance AES key (its
usage must allow unwrap-key; you need the decrypt permission on it), as
\`key export --wrap-key\` on another appliance, or another key manager,
makes it. It is always a key import, a SECRET too: the server unwraps it
when the request is made (a blob that does not unwrap is UNWRAP_FAILED,
exit 7, and nothing is stored) and approvers see the unwrapped key's
length and kcv beside the wrapping key (unwrappedBy). Use --encoding raw,
hex or base64 for the blob as you have it. Material wrapped with RSA-OAEP
cannot be imported: the appliance holds no RSA private key of its own to
unwrap with.`;

export function keyRegisterCommand(): Command {
  const command = new Command('register')
    .description('register a key whose material you supply: a SECRET (a password, a PEM key) at once; AES, HMAC or CHACHA20 material (-a) is a key import that waits for other officers (APPROVAL_REQUIRED, exit 12)')
    .argument('<name>', 'namespace/name')
    .option('--from-file <path>', 'read the material from this file ("-" for standard input)', '-')
    .option('--unwrap-key <kek>', 'the material is wrapped (RFC 5649) under this appliance AES key: a key import')
    .option('--unwrap-instance <instance>', 'with --unwrap-key: that instance of it (default: its current one)');
  addMaterialFormatOptions(command);
  addKeySpecOptions(command, 'SECRET').addHelpText(
    'after',
    `${NEWLINE_HELP}
${IMPORT_HELP}

Examples:
  $ strongroom key register app/db-password --from-file ./secret.txt
  $ printf '%s' "$DB_PASSWORD" | strongroom key register app/db-password
  $ echo "s3cret" | strongroom key register app/api-token --strip-newline
  $ strongroom key register pay/zmk -a AES-256 --encoding hex --from-file zmk.hex   # exits 12: an import
  $ strongroom key register hr/payroll -a AES-256 --unwrap-key xfer/zmk --from-file payroll.wrapped   # exits 12`,
  );
  return command.action(
    runCommand(async (ctx, name: string, options: RegisterOptions) => {
      const args = keyArgsFrom(name, options); // the flag syntax, before the material is read
      const { material, summary } = readMaterial(options);
      try {
        const unwrap = options.unwrapKey === undefined && options.unwrapInstance === undefined ? undefined : { unwrapKey: options.unwrapKey, unwrapInstance: options.unwrapInstance };
        const created = await ctx.backend().registerKey(args, material, unwrap);
        const warning = newlineWarning(summary, options, created.key.fullName);
        if (warning) ctx.out.warn(warning);
        ctx.out.result({ ...created, stored: summary }, () => `Registered ${created.key.fullName}, instance ${created.key.currentInstance}${activationNote(created.instances)}: ${describeMaterial(summary)}\n\n${renderKey(created.key)}`);
      } finally {
        wipe(material);
      }
    }),
  );
}
