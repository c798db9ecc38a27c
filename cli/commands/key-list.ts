/** `strongroom key list`: keys with their current instance, no material. */
import { Command } from 'commander';
import { ValidationError } from '../../common/errors';
import { runCommand } from '../context';
import { table } from '../output';

interface ListOptions {
  namespace?: string;
  match?: string;
  algorithm?: string;
  limit?: string;
}

/**
 * What an empty list means. An officer locates every key by role, so for
 * them the keychain (or the filter) is empty. An app lists only keys a
 * grant lets it locate, so "no keys" would be false: the keychain may hold
 * many, none of them visible to it; say so, and how it gets a grant.
 */
function emptyListText(query: Record<string, unknown>, options: ListOptions): string {
  const identity = (query.identity ?? {}) as { name?: string; role?: string };
  const filtered = options.namespace !== undefined || options.match !== undefined || options.algorithm !== undefined;
  if (identity.role === 'officer') {
    return filtered ? 'No keys match these filters (strongroom key list without them lists every key).' : 'The keychain has no keys. Create one with: strongroom key create <namespace/name>';
  }
  const name = identity.name ?? 'this client';
  return [
    `No keys visible to ${name}${filtered ? ' that match these filters' : ''}.`,
    `An ${identity.role ?? 'app'} lists only the keys a grant lets it locate; the keychain may hold others.`,
    `An officer grants it, e.g.: strongroom policy grant --client ${name} --pattern '<namespace>/*' --permissions locate`,
  ].join('\n');
}

export function keyListCommand(): Command {
  return new Command('list')
    .description('list keys (metadata only)')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option('-m, --match <glob>', 'only full names matching the glob, e.g. "hr/*"')
    .option('-a, --algorithm <alg>', 'only this algorithm')
    .option('--limit <n>', 'at most this many', '1000')
    .addHelpText(
      'after',
      '\nExamples:\n  $ strongroom key list --match "hr/*"\n  $ strongroom key list --json | jq ".[].fullName"\n\nAn app lists only the keys a grant lets it locate; officers see every key.',
    )
    .action(
      runCommand(async (ctx, options: ListOptions) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ValidationError(`--limit is a whole number from 1 to 100000, not "${options.limit}"`);
        const backend = ctx.backend();
        const keys = await backend.listKeys({
          namespace: options.namespace,
          match: options.match,
          algorithm: options.algorithm,
          limit: Number.isInteger(limit) && limit > 0 ? limit : 1000,
        });
        // An empty answer means different things to an officer and to an app (which sees only what it may locate): ask who we are.
        const empty = keys.length === 0 && !ctx.out.json ? emptyListText((await backend.query()) ?? {}, options) : '';
        ctx.out.result(keys, () =>
          keys.length === 0
            ? empty
            : table(
                ['NAME', 'ALGORITHM', 'VERSION', 'CURRENT INSTANCE', 'ROLLOVER'],
                keys.map((k) => [k.fullName, k.algorithm, String(k.currentVersion), k.currentInstance, k.cryptoperiod ? `${k.rolloverPolicy} ${k.cryptoperiod}` : k.rolloverPolicy]),
              ),
        );
      }),
    );
}
