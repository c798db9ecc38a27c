/**
 * SetRolloverPolicy, RolloverDue and RolloverRun (officer-only): change a
 * key's policy, list what the scheduler will roll and when (at an instant,
 * or within a window from it), and run a sweep now (the server also sweeps
 * on its own; see domain/rollover-service.ts): instances whose activation
 * date has come are activated first.
 */
import { ValidationError } from '../common/errors';
import { exactDurationMs } from '../common/exact-duration';
import { makeRolloverPolicy } from '../domain/rollover-policy';
import { sweepDueRollovers } from '../domain/rollover-scheduler';
import { sweepDueActivations } from '../domain/activation-sweep';
import { parseUsagePeriods } from '../domain/usage-periods';
import { canonicalName } from './context';
import { Operation } from './operation';

/** Keys named in RolloverRun's answer (the counts are always complete): keeps the answer small for 100k-key sweeps. */
const MAX_LISTED_ROLLOVERS = 1000;

/** Default page of RolloverDue. */
const DEFAULT_DUE_LIMIT = 100;

export const setRolloverPolicy: Operation<'SetRolloverPolicy'> = {
  name: 'SetRolloverPolicy',
  access: 'officer',
  changesState: true,
  run: (args, ctx) =>
    ctx.services.keychain.setRolloverPolicy(
      canonicalName(args.name),
      makeRolloverPolicy(args.rollover, args.cryptoperiod),
      args.protectPeriod === undefined && args.processPeriod === undefined ? undefined : parseUsagePeriods(args.protectPeriod, args.processPeriod),
    ),
};

export const undoRollover: Operation<'UndoRollover'> = {
  name: 'UndoRollover',
  access: 'officer',
  changesState: true,
  run: (args, ctx) => ctx.services.keychain.undoRollover(canonicalName(args.name)),
};

export const rolloverDue: Operation<'RolloverDue'> = {
  name: 'RolloverDue',
  access: 'officer',
  run: (args, ctx) => {
    const from = args.at === undefined ? ctx.services.clock.nowMs() : Date.parse(args.at);
    if (Number.isNaN(from)) throw new ValidationError('at is not an ISO 8601 date-time');
    // With `within`, everything due up to `from` + the window (what is already due rolls at the next check, so it is in the window too).
    const at = args.within === undefined ? from : from + exactDurationMs(args.within, 'within');
    const { keychain } = ctx.services;
    const due = keychain.dueKeys(at, args.limit ?? DEFAULT_DUE_LIMIT);
    const listed = due.map((d) => ({ name: keychain.keyNameById(d.keyId), nextRolloverAt: d.nextRolloverAt }));
    return { at: new Date(at).toISOString(), ...(args.within === undefined ? {} : { from: new Date(from).toISOString(), within: args.within }), due: listed };
  },
};

export const rolloverRun: Operation<'RolloverRun'> = {
  name: 'RolloverRun',
  access: 'officer',
  changesState: true,
  run: async (args, ctx) => {
    // A drill as of another time really rolls the keys: only the local operator, on a data folder (a copy, the docs say), not a client of a live server.
    if (args.at !== undefined && !ctx.identity.local) throw new ValidationError('--at runs a simulated sweep: only in local mode (without --server), on a copy of the data folder');
    const at = args.at === undefined ? ctx.services.clock.nowMs() : Date.parse(args.at as string);
    if (Number.isNaN(at)) throw new ValidationError(`--at "${String(args.at)}" is not an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z)`);
    // Instances whose activation date has come first, as the server's own sweep does (domain/rollover-service.ts).
    const activations = await sweepDueActivations(ctx.services.keychain, at);
    const rolled: Array<{ name: string; instance: string }> = [];
    const result = await sweepDueRollovers(ctx.services.keychain, at, {
      onRolled: (name, instance) => {
        if (rolled.length < MAX_LISTED_ROLLOVERS) rolled.push({ name, instance });
      },
    });
    return { ...result, keys: rolled, keysListed: rolled.length, activated: activations.activated, activationsFailed: activations.failed };
  },
};
