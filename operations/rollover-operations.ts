/**
 * SetRolloverPolicy, RolloverDue and RolloverRun (officer-only): change a
 * key's policy, list what the scheduler will roll and when (at an instant,
 * or within a window from it), and run a sweep now (the server also sweeps
 * on its own; see domain/rollover-service.ts): instances whose activation
 * date has come are activated first.
 */
import { ValidationError } from '../common/errors';
import { AuditEvent } from '../domain/audit/audit-event';
import { adminEvent } from '../domain/audit/audit-events';
import { exactDurationMs } from '../common/exact-duration';
import { optionalRolloverPolicy } from '../domain/rollover-policy';
import { sweepDueRollovers } from '../domain/rollover-scheduler';
import { sweepDueActivations } from '../domain/activation-sweep';
import { parseUsagePeriods } from '../domain/usage-periods';
import { canonicalName, OperationContext } from './context';
import { Operation } from './operation';

/** Keys named in RolloverRun's answer (the counts are always complete): keeps the answer small for 100k-key sweeps. */
const MAX_LISTED_ROLLOVERS = 1000;

/** The largest time a Date can hold (ECMAScript: 8.64e15 ms either side of 1970). */
const MAX_DATE_MS = 8.64e15;

/** Default page of RolloverDue. */
const DEFAULT_DUE_LIMIT = 100;

export const setRolloverPolicy: Operation<'SetRolloverPolicy'> = {
  name: 'SetRolloverPolicy',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
  run: (args, ctx) => {
    const periods = args.protectPeriod === undefined && args.processPeriod === undefined ? undefined : parseUsagePeriods(args.protectPeriod, args.processPeriod);
    // Changing only the usage periods keeps the key's rollover policy; a cryptoperiod alone means auto.
    const policy = optionalRolloverPolicy(args.rollover, args.cryptoperiod);
    if (policy === undefined && periods === undefined) {
      throw new ValidationError('nothing to change: give --rollover (auto, manual or none), --cryptoperiod, --protect-period or --process-period');
    }
    return ctx.services.keychain.setRolloverPolicy(canonicalName(args.name), policy, periods);
  },
};

export const undoRollover: Operation<'UndoRollover'> = {
  name: 'UndoRollover',
  access: 'officer',
  changesState: true,
  commitsWithItsEvent: true,
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
    // A date past the last one JavaScript can represent (year 275760) has no ISO form: a usage error, not an internal one.
    if (!(Math.abs(at) <= MAX_DATE_MS)) throw new ValidationError('at plus within falls outside the dates the appliance can represent: choose an earlier --at or a shorter --within');
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
    // Each instance activated or made current gets its own event, as the server's sweep records them
    // (server/compose/background-jobs.ts), appended in its batch's own transaction (recordWithin): a trail that
    // cannot record them undoes the batch and stops the run (AUDIT_UNAVAILABLE) instead of changing keys
    // unrecorded. Without recordWithin (unit tests of the table) each batch waits for its events before the next.
    const { keychain, recordWithin, recordFlushedLater } = ctx.services;
    let batch: Array<Promise<void>> = [];
    const eventOf = (type: 'activated' | 'rollover', key: string | null, instance: string): AuditEvent => ({ ...adminEvent(ctx.services, type, key, instance), identity: eventIdentity(ctx), operation: 'RolloverRun' });
    const rolloverEvents = (keys: ReadonlyArray<{ key: string; instance: string }>): AuditEvent[] => keys.map(({ key, instance }) => eventOf('rollover', key, instance));
    const record = (type: 'activated' | 'rollover', key: string | null, instance: string): void => {
      if (recordWithin !== undefined) return;
      const pending = ctx.services.recordAudit(eventOf(type, key, instance));
      pending.catch(() => undefined); // awaited by afterBatch and by the dispatcher; never unhandled
      ctx.awaitAudit?.(pending);
      batch.push(pending);
    };
    const afterBatch = async (): Promise<void> => {
      const waiting = batch;
      batch = [];
      await Promise.all(waiting);
    };
    // Instances whose activation date has come first, as the server's own sweep does (domain/rollover-service.ts).
    const activations = await sweepDueActivations(keychain, at, {
      onActivated: (instance) => record('activated', keychain.keyNameOfInstance(instance), instance),
      afterBatch,
      recordWithin: recordWithin === undefined ? undefined : (instances) => recordWithin(instances.map((instance) => eventOf('activated', keychain.keyNameOfInstance(instance), instance))),
    });
    await afterBatch();
    const rolled: Array<{ name: string; instance: string }> = [];
    const result = await sweepDueRollovers(keychain, at, {
      onRolled: (name, instance) => {
        record('rollover', name, instance);
        if (rolled.length < MAX_LISTED_ROLLOVERS) rolled.push({ name, instance });
      },
      afterBatch,
      auditedBatches: true,
      recordWithin: recordWithin === undefined ? undefined : (keys) => recordWithin(rolloverEvents(keys)),
      // The rollovers, tens of thousands at a time, commit without an fsync on the event loop; each batch is flushed with its events off it.
      recordFlushedLater: recordFlushedLater === undefined ? undefined : (keys) => recordFlushedLater(rolloverEvents(keys)),
    });
    await afterBatch();
    return { ...result, keys: rolled, keysListed: rolled.length, activated: activations.activated, activationsFailed: activations.failed };
  },
};

/** The requester as events name them (the dispatcher's own events carry the same four fields). */
function eventIdentity(ctx: OperationContext): AuditEvent['identity'] {
  const { name, role, fingerprint256, subject } = ctx.identity;
  return { name, role, fingerprint256, subject };
}
