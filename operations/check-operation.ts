/**
 * Check (docs/protocol.md §6): whether the referenced instance (the key's
 * current one when only a name is given) could be used as asked — the
 * usages named, a count of its usage limit, a lease — answered with every check that fails
 * (domain/object-check.ts), none when it would do. A read: it uses
 * nothing, changes nothing, and is audited as reads are. It needs
 * `get-attributes`, since it tells what the key's attributes allow.
 */
import { checkObject } from '../domain/object-check';
import { authorizeRef } from './context';
import { Operation } from './operation';

export const check: Operation<'Check'> = {
  name: 'Check',
  access: 'key',
  run: (args, ctx) => {
    const { keychain } = ctx.services;
    const ref = authorizeRef(ctx, 'get-attributes', args);
    const instance = keychain.describeInstance(ref); // INSTANCE_NOT_FOUND for an instance of another key
    const { key } = keychain.describeKey(ref.fullName as string); // authorizeRef resolves the key of an instance named alone
    const asked = { usage: args.usage, usageLimitCount: args.usageLimitCount, leaseSeconds: args.leaseSeconds };
    return { instance, failures: checkObject(asked, key, instance, { usage: ctx.services.crypto.usageOf(instance) }) };
  },
};
