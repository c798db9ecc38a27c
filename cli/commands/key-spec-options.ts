/**
 * The options `key create` and `key register` share, and their parsing into
 * a KeySpec.
 */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { Algorithm, parseAlgorithm } from '../../domain/algorithms';
import { KeySpec } from '../../domain/keychain';
import { optionalRolloverPolicy } from '../../domain/rollover-policy';
import { parseUsageMask } from '../../domain/usage-mask';
import { parseUsagePeriods } from '../../domain/usage-periods';

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
}

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
    .option('--process-period <period>', 'SP 800-57 recipient usage period of each instance: past it, the instance is Deactivated');
}

export function keySpecFrom(fullName: string, options: KeySpecOptions): KeySpec & { algorithm: Algorithm } {
  const customAttributes: Record<string, string> = {};
  for (const pair of options.attr ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ValidationError(`--attr takes name=value, not "${pair}"`);
    customAttributes[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    fullName,
    algorithm: parseAlgorithm(options.algorithm),
    usageMask: options.usage ? parseUsageMask(options.usage) : undefined,
    description: options.description,
    owner: options.owner,
    customAttributes,
    rollover: optionalRolloverPolicy(options.rollover, options.cryptoperiod),
    usagePeriods: parseUsagePeriods(options.protectPeriod, options.processPeriod),
  };
}
