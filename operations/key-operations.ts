/**
 * Create, Register, Get, Locate, GetAttributes, SetCustomAttributes and ReKey (docs/protocol.md §6):
 * thin adapters from validated wire arguments to the keychain service. ReKey
 * takes a caller's material only where domain/policy/permissions.ts allows it
 * (keys the appliance cannot generate); Register takes it for those at once,
 * and for the others as a dual-controlled import (operations/key-import.ts). Create, Register and ReKey
 * take an activation date (`activateAt`): the new instance is PreActive until
 * then (domain/keys/instance-activation.ts). Create and Register also take
 * absolute usage dates of the first instance (`protectStopAt`,
 * `processStartAt`, `processStopAt`: domain/usage-dates.ts).
 */
import { ValidationError } from '../common/errors';
import { parseAlgorithm } from '../domain/algorithms';
import { KeyRef, KeySpec } from '../domain/keychain';
import { checkCallerMaterial } from '../domain/policy/permissions';
import { optionalRolloverPolicy } from '../domain/rollover-policy';
import { parseUsageMask } from '../domain/usage-mask';
import { parseUsagePeriods } from '../domain/usage-periods';
import { parseUsageDates } from '../domain/usage-dates';
import { parseUsageLimit } from '../domain/usage-limits';
import { inDateRanges, parseDateRanges } from '../domain/instance-date-ranges';
import { ArgsOf } from '../protocol/op-schemas';
import { authorizeName, authorizeRef, canonicalName, OperationContext } from './context';
import { Operation } from './operation';
import { resolveBinding } from './approval-binding';
import { importArgs, importClass, refuseWrappedOutsideImport } from './key-import';

/** Locate's default page (§6). */
const DEFAULT_LOCATE_LIMIT = 100;

/** Create's fields (Register has them too, with its material). */
function keySpec(fullName: string, args: ArgsOf<'Create'>, defaultAlgorithm: string): KeySpec {
  const usage = args.usage;
  return {
    fullName,
    algorithm: parseAlgorithm(args.algorithm ?? defaultAlgorithm),
    usageMask: usage && usage.length > 0 ? parseUsageMask(usage.join(',')) : undefined,
    description: args.description,
    owner: args.owner,
    customAttributes: args.attributes ? { ...args.attributes } : undefined,
    rollover: optionalRolloverPolicy(args.rollover, args.cryptoperiod),
    usagePeriods: parseUsagePeriods(args.protectPeriod, args.processPeriod),
    usageDates: parseUsageDates(args.protectStopAt, args.processStartAt, args.processStopAt),
    usageLimit: parseUsageLimit(args.usageLimitTotal, args.usageLimitUnit),
    activateAt: args.activateAt,
    activate: args.activate,
    sensitive: args.sensitive,
  };
}

export const create: Operation<'Create'> = {
  name: 'Create',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => ctx.services.keychain.createKey(keySpec(authorizeName(ctx, 'create', args.name), args, 'AES-256')),
};

/**
 * Material of an algorithm the appliance generates is a key import, which
 * runs only once officers approved it (operations/key-import.ts); SECRET
 * registers at once.
 */
export const register: Operation<'Register'> = {
  name: 'Register',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  dualControl: (args, ctx) => importClass(() => keySpec(canonicalName(args.name), args, 'SECRET'), args, ctx),
  approvalArgs: importArgs,
  run: (args, ctx) => {
    const material = args.material;
    try {
      // Never the wrapped bytes as material: the approved import's restore hands over the unwrapped ones instead.
      refuseWrappedOutsideImport(args);
      // `fresh: false`: the registering client says the material was handed out already (KMIP Fresh); nothing can claim the opposite of a served instance.
      const spec = { ...keySpec(authorizeName(ctx, 'register', args.name), args, 'SECRET'), opaqueType: args.opaqueType, fresh: args.fresh };
      // The approved import is the one way in for generated algorithms' material (the gate stored it; officers approved it).
      if (ctx.approval?.dualControlClass !== 'key-import') checkCallerMaterial(spec.algorithm, spec.fullName);
      return ctx.services.keychain.registerKey(spec, material);
    } finally {
      material.fill(0);
    }
  },
};

/**
 * The material Buffer in the result is zeroed by the connection once the
 * response is encoded. The first Get of a fresh instance answers
 * asynchronously: once its Fresh=false is durable (domain/keys/fresh-flag-group.ts). An officer without a grant on the key asks for a key
 * export (dual control); the key is resolved first, so an unknown one is
 * KEY_NOT_FOUND rather than a request for nothing.
 */
export const get: Operation<'Get'> = {
  name: 'Get',
  access: 'key',
  dualControl: (args, ctx) => {
    if (ctx.identity.role !== 'officer') return null;
    if (args.name !== undefined) ctx.services.keychain.resolveName(canonicalName(args.name)); // KEY_NOT_FOUND: no request for nothing
    try {
      authorizeRef(ctx, 'get', args);
      return null;
    } catch (err) {
      if ((err as { code?: string }).code === 'PERMISSION_DENIED') return 'key-export';
      throw err;
    }
  },
  approvalBinding: (args, ctx) => resolveBinding(ctx, args),
  // A first serving answers once its Fresh flag is durable, written with the turn's other first servings.
  answersLater: true,
  run: (args, ctx) => {
    const ref = authorizeRef(ctx, 'get', args);
    // An approved Get runs inside its approval's transaction: its flag commits with it, at once.
    return ctx.approval ? ctx.services.keychain.getKey(ref) : ctx.services.keychain.getKeyWhenServed(ref);
  },
};

export const locate: Operation<'Locate'> = {
  name: 'Locate',
  access: 'key',
  run: (args, ctx: OperationContext) => {
    const { policy, keychain } = ctx.services;
    const ranges = parseDateRanges(args.dates); // a bad range is refused even for a client that locates nothing
    if (!policy.holdsAnywhere(ctx.identity, 'locate')) return { keys: [], nextOffset: null };
    const limit = args.limit ?? DEFAULT_LOCATE_LIMIT;
    const offset = args.offset ?? 0;
    const page = keychain.listKeys({
      namePattern: args.pattern,
      namespace: args.namespace,
      algorithm: args.algorithm === undefined ? undefined : parseAlgorithm(args.algorithm),
      attributes: args.attributes,
      limit,
      offset,
    });
    // The page is cut before the access filter, so a short answer does not mean the end: nextOffset does (null at the end).
    const nextOffset = page.length === limit ? offset + limit : null;
    const located = page.filter((key) => policy.allows(ctx.identity, 'locate', key.fullName));
    // Dates are checked on each current instance's authenticated row, after the page is cut, as access is.
    return { keys: ranges.length === 0 ? located : located.filter((key) => inDateRanges(keychain.describeInstance({ fullName: key.fullName }), ranges)), nextOffset };
  },
};

/** The key an authorised reference resolved to (authorizeRef always names it, an instance alone included). */
function keyOf(ref: KeyRef): string {
  if (ref.fullName === undefined) throw new Error('authorizeRef returned a reference without its key');
  return ref.fullName;
}

/**
 * The key and all its instances, the instance referred to (the named one,
 * else the current one), what the appliance says of its material
 * (domain/keys/material-facts.ts) and, when asked, its material's digest
 * (null: none to give).
 */
export const getAttributes: Operation<'GetAttributes'> = {
  name: 'GetAttributes',
  access: 'key',
  run: (args, ctx) => {
    const { keychain } = ctx.services;
    const ref = authorizeRef(ctx, 'get-attributes', args);
    const instance = keychain.describeInstance(ref); // INSTANCE_NOT_FOUND for an instance of another key
    const described = keychain.describeKey(keyOf(ref));
    const digest = args.digest === true ? { digest: keychain.digestMaterial({ ...ref, instance: instance.name }) } : {};
    // A usage limit's count is kept beside the row (domain/usage-limits.ts): shown with what remains.
    const usage = ctx.services.crypto.usageOf(instance);
    return { ...described, instance, material: keychain.describeMaterial({ ...ref, instance: instance.name }), ...digest, ...(usage === undefined ? {} : { usage }) };
  },
};

/** Sets and removes a key's custom attributes, and sets its description (an instance reference names its key: they are the key's). */
export const setCustomAttributes: Operation<'SetCustomAttributes'> = {
  name: 'SetCustomAttributes',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => {
    const set = args.set ?? {};
    const remove = args.remove ?? [];
    if (Object.keys(set).length === 0 && remove.length === 0 && args.description === undefined) {
      throw new ValidationError('nothing to change: give `set`, `remove` or `description`', { details: { field: 'set' } });
    }
    return ctx.services.keychain.setCustomAttributes(keyOf(authorizeRef(ctx, 'modify-attributes', args)), set, remove, args.description);
  },
};

/**
 * With material only for a key whose material the appliance cannot generate
 * (checkCallerMaterial). A key named by an instance is rolled over only if
 * that instance is still its current one (checked inside the rollover's
 * transaction): two clients rekeying the same instance make one successor,
 * and the second is told which instance replaced it.
 */
export const reKey: Operation<'ReKey'> = {
  name: 'ReKey',
  access: 'key',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => {
    const material = args.material;
    try {
      // Authorised first, so that a caller without the grant learns nothing of the key's algorithm.
      const ref = authorizeRef(ctx, 'rekey', args);
      const fullName = ref.fullName as string; // authorizeRef always resolves the key, an instance named alone to its owner
      const expectedCurrent = args.instance;
      if (material !== undefined) checkCallerMaterial(parseAlgorithm(ctx.services.keychain.describeKey(fullName).key.algorithm), fullName);
      const described = ctx.services.keychain.rollover(fullName, material, args.activateAt, expectedCurrent);
      // The event names the instance this rollover made: with an activation date it is not (yet) the current one.
      const made = described.instances.reduce((newest, instance) => (instance.version > newest.version ? instance : newest));
      if (ctx.touched !== undefined) ctx.touched.instance = made.name;
      return described;
    } finally {
      material?.fill(0);
    }
  },
};
