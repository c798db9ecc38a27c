/**
 * The options `key create` and `key register` share, and how they become the
 * arguments of Create and Register. Values go as the operator typed them:
 * the dispatcher checks algorithms, usage, rollover policies and periods
 * (its codec, then the key rules), so a rule lives in one place and local
 * and remote mode refuse the same values with the same message. Only the
 * CLI's own flag syntax is checked here (--attr name=value).
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';

export interface KeySpecOptions {
  algorithm: string;
  usage?: string;
  description?: string;
  owner?: string;
  attr?: string[];
  rollover?: string;
  cryptoperiod?: string;
  protectPeriod?: string;
  processPeriod?: string;
  activateAt?: string;
}

/** The help of --activate-at, shared by create, register and rollover. */
export const ACTIVATE_AT_HELP = 'an ISO 8601 date-time with a zone in the future (e.g. 2027-01-01T00:00:00Z): the new instance is PreActive until then, when the server activates it on its own (key activate does it sooner)';

export function addKeySpecOptions(command: Command, defaultAlgorithm?: string, algorithmHelp = 'AES-128, AES-192, AES-256, HMAC-SHA256, HMAC-SHA512 or SECRET'): Command {
  const algorithm = '-a, --algorithm <alg>';
  (defaultAlgorithm ? command.option(algorithm, algorithmHelp, defaultAlgorithm) : command.requiredOption(algorithm, algorithmHelp));
  return command
    .option('-u, --usage <list>', 'comma list: encrypt, decrypt, wrap-key, unwrap-key, sign, verify, mac-generate, mac-verify, export, derive-key')
    .option('-d, --description <text>', 'free text shown in listings')
    .option('-o, --owner <name>', 'who answers for this key')
    .option('--attr <name=value>', 'a custom attribute (repeatable)', (value: string, all: string[] = []) => [...all, value])
    .option('--rollover <policy>', 'auto, manual or none (default: auto when --cryptoperiod is given, else the namespace default from namespace_rollover, else manual)')
    .option('--cryptoperiod <period>', 'for auto rollover: days (90) or an ISO 8601 duration (P90D, P1Y)')
    .option('--protect-period <period>', 'SP 800-57 originator usage period of each instance: past it, the instance only decrypts')
    .option('--process-period <period>', 'SP 800-57 recipient usage period of each instance: past it, the instance is Deactivated')
    .option('--activate-at <iso-time>', ACTIVATE_AT_HELP);
}

/** The arguments of Create (and, with the material, Register), as docs/protocol.md §6 names them. */
export interface KeyArgs {
  readonly name: string;
  readonly algorithm?: string;
  readonly usage?: string[];
  readonly description?: string;
  readonly owner?: string;
  readonly attributes?: Record<string, string>;
  readonly rollover?: string;
  readonly cryptoperiod?: string;
  readonly protectPeriod?: string;
  readonly processPeriod?: string;
  readonly activateAt?: string;
}

/** The flags as Create's arguments; INVALID_ARGUMENT for an --attr that is not name=value. */
export function keyArgsFrom(name: string, options: KeySpecOptions): KeyArgs {
  const attributes: Record<string, string> = {};
  for (const pair of options.attr ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--attr takes name=value, not "${pair}"`, { details: { field: 'attr' } });
    attributes[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    name,
    algorithm: options.algorithm,
    usage: options.usage ? options.usage.split(',').map((u) => u.trim()).filter(Boolean) : undefined,
    description: options.description,
    owner: options.owner,
    attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    rollover: options.rollover,
    cryptoperiod: options.cryptoperiod,
    protectPeriod: options.protectPeriod,
    processPeriod: options.processPeriod,
    activateAt: options.activateAt,
  };
}
