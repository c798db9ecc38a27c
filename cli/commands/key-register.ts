/** `strongroom key register NAME`: a key from material the caller supplies. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { runCommand } from '../context';
import { renderKey } from './key-format';
import { addKeySpecOptions, keyArgsFrom, KeySpecOptions } from './key-spec-options';

interface RegisterOptions extends KeySpecOptions {
  fromFile?: string;
  encoding: string;
}

export function keyRegisterCommand(): Command {
  const command = new Command('register')
    .description('register a key whose material you supply (e.g. an opaque secret or an imported AES key)')
    .argument('<name>', 'namespace/name')
    .option('--from-file <path>', 'read the material from this file ("-" for standard input)', '-')
    .option('--encoding <enc>', 'how the input is encoded: raw, hex or base64', 'raw');
  addKeySpecOptions(command, 'SECRET').addHelpText(
    'after',
    `
Examples:
  $ head -c 32 /dev/urandom | strongroom key register legacy/batch -a AES-256
  $ strongroom key register app/db-password --from-file ./secret.txt`,
  );
  return command.action(
    runCommand(async (ctx, name: string, options: RegisterOptions) => {
      const args = keyArgsFrom(name, options); // the flag syntax, before the material is read
      const input = readInput(options.fromFile === '-' || !options.fromFile ? 0 : options.fromFile);
      const material = decode(input, options.encoding);
      try {
        const created = await ctx.backend().registerKey(args, material);
        ctx.out.result(created, () => `Registered ${created.key.fullName}, instance ${created.key.currentInstance}\n\n${renderKey(created.key)}`);
      } finally {
        wipe(material, input);
      }
    }),
  );
}

function readInput(from: string | 0): Buffer {
  try {
    return readFileSync(from);
  } catch (cause) {
    throw new ValidationError(`cannot read ${from === 0 ? 'standard input' : from} (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give a readable file to --from-file`, { cause });
  }
}

function decode(input: Buffer, encoding: string): Buffer {
  if (encoding === 'raw') return Buffer.from(input);
  if (encoding !== 'hex' && encoding !== 'base64') throw new ValidationError('--encoding is raw, hex or base64');
  const text = input.toString('latin1').trim();
  const valid = encoding === 'hex' ? /^([0-9a-fA-F]{2})+$/ : /^[A-Za-z0-9+/]+={0,2}$/;
  if (!valid.test(text)) throw new ValidationError(`the input is not ${encoding}`);
  return Buffer.from(text, encoding);
}
