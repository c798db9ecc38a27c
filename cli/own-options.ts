/**
 * Commander lets the program's options match anywhere on the command line,
 * so a command's own option that shares a global option's name never
 * reaches the command: `policy check --key hr/payroll` would set the TLS
 * key file (`--key`, global) instead of the key to check. This rewrites,
 * after the command's name only, such a long option into the command's own
 * short flag (which no global option has), so the command gets it and a
 * global `--key FILE` given before the command keeps its meaning.
 */
import { Command, Option } from 'commander';

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

function findOption(commands: readonly Command[], flag: string): Option | undefined {
  for (const command of commands) {
    const found = command.options.find((o) => o.long === flag || o.short === flag);
    if (found) return found;
  }
  return undefined;
}

/** `args` (without node and the script) with each of the leaf command's own shadowed long options turned into its short flag. */
export function claimOwnOptions(program: Command, args: readonly string[]): string[] {
  const out = [...args];
  const chain: Command[] = [program];
  for (let i = 0; i < out.length; i++) {
    const arg = out[i];
    if (arg === '--') break;
    const command = chain[chain.length - 1];
    if (arg.startsWith('-') && arg.length > 1) {
      const [flag, inlineValue] = arg.split(/=(.*)/s, 2);
      const own = chain.length > 1 ? command.options.find((o) => o.long === flag) : undefined;
      const shadowed = own !== undefined && own.short !== undefined && findOption(chain.slice(0, -1), flag) !== undefined;
      if (shadowed && own.short !== undefined) {
        out.splice(i, 1, ...(inlineValue !== undefined ? [own.short, inlineValue] : [own.short]));
        if (takesValue(own)) i++;
        continue;
      }
      // Skip a known option's value, so that it is not taken for a command name.
      const known = findOption([...chain].reverse(), flag);
      if (known !== undefined && takesValue(known) && inlineValue === undefined) i++;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub) chain.push(sub);
  }
  return out;
}
