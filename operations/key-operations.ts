/**
 * Create, Register, Get, Locate, GetAttributes and ReKey (docs/protocol.md §6):
 * thin adapters from validated wire arguments to the keychain service.
 */
import { parseAlgorithm } from '../domain/algorithms';
import { KeySpec } from '../domain/keychain';
import { optionalRolloverPolicy } from '../domain/rollover-policy';
import { parseUsageMask } from '../domain/usage-mask';
import { parseUsagePeriods } from '../domain/usage-periods';
import { Args, authorizeName, authorizeRef, canonicalName, OperationContext } from './context';
import { Operation } from './operation';

/** Locate's default page (§6). */
const DEFAULT_LOCATE_LIMIT = 100;

function keySpec(fullName: string, args: Args, defaultAlgorithm: string): KeySpec {
  const usage = args.usage as string[] | undefined;
  return {
    fullName,
    algorithm: parseAlgorithm((args.algorithm as string | undefined) ?? defaultAlgorithm),
    usageMask: usage && usage.length > 0 ? parseUsageMask(usage.join(',')) : undefined,
    description: args.description as string | undefined,
    owner: args.owner as string | undefined,
    customAttributes: args.attributes ? { ...(args.attributes as Record<string, string>) } : undefined,
    rollover: optionalRolloverPolicy(args.rollover as string | undefined, args.cryptoperiod as string | undefined),
    usagePeriods: parseUsagePeriods(args.protectPeriod as string | undefined, args.processPeriod as string | undefined),
  };
}

export const create: Operation = {
  name: 'Create',
  access: 'key',
  run: (args, ctx) => ctx.services.keychain.createKey(keySpec(authorizeName(ctx, 'create', args.name as string), args, 'AES-256')),
};

export const register: Operation = {
  name: 'Register',
  access: 'key',
  run: (args, ctx) => {
    const material = args.material as Buffer;
    try {
      return ctx.services.keychain.registerKey(keySpec(authorizeName(ctx, 'register', args.name as string), args, 'SECRET'), material);
    } finally {
      material.fill(0);
    }
  },
};

/**
 * The material Buffer in the result is zeroed by the connection once the
 * response is encoded. An officer without a grant on the key asks for a key
 * export (dual control); the key is resolved first, so an unknown one is
 * KEY_NOT_FOUND rather than a request for nothing.
 */
export const get: Operation = {
  name: 'Get',
  access: 'key',
  dualControl: (args, ctx) => {
    if (ctx.identity.role !== 'officer') return null;
    if (args.name !== undefined) ctx.services.keychain.resolveName(canonicalName(args.name as string)); // KEY_NOT_FOUND: no request for nothing
    try {
      authorizeRef(ctx, 'get', args);
      return null;
    } catch (err) {
      if ((err as { code?: string }).code === 'PERMISSION_DENIED') return 'key-export';
      throw err;
    }
  },
  run: (args, ctx) => ctx.services.keychain.getKey(authorizeRef(ctx, 'get', args)),
};

export const locate: Operation = {
  name: 'Locate',
  access: 'key',
  run: (args, ctx: OperationContext) => {
    const { policy, keychain } = ctx.services;
    if (!policy.holdsAnywhere(ctx.identity, 'locate')) return { keys: [] };
    const limit = (args.limit as number | undefined) ?? DEFAULT_LOCATE_LIMIT;
    const keys = keychain
      .listKeys({
        namePattern: args.pattern as string | undefined,
        namespace: args.namespace as string | undefined,
        algorithm: args.algorithm === undefined ? undefined : parseAlgorithm(args.algorithm as string),
        limit,
        offset: args.offset as number | undefined,
      })
      .filter((key) => policy.allows(ctx.identity, 'locate', key.fullName));
    return { keys };
  },
};

export const getAttributes: Operation = {
  name: 'GetAttributes',
  access: 'key',
  run: (args, ctx) => ctx.services.keychain.describeKey(authorizeName(ctx, 'get-attributes', args.name as string)),
};

export const reKey: Operation = {
  name: 'ReKey',
  access: 'key',
  run: (args, ctx) => {
    const material = args.material as Buffer | undefined;
    try {
      return ctx.services.keychain.rollover(authorizeName(ctx, 'rekey', args.name as string), material);
    } finally {
      material?.fill(0);
    }
  },
};
