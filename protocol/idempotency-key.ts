/**
 * The request's optional `idempotencyKey` (docs/protocol.md §3.1, §3.5):
 * which operations take one and what a key may be. The codec checks both
 * before anything runs (protocol/request.ts), and the dispatcher's
 * idempotent write (operations/idempotency.ts) checks the same rule for
 * requests that reach it without the JSON codec.
 *
 * An operation is here only when its answer can be served again from a
 * stored copy: it changes state (so a retry could do the change twice),
 * and its result holds no key material, no private key and nothing else
 * that must not sit in the database as it is. Each result checked:
 * Create, Register, ReKey, SetCustomAttributes, SetRolloverPolicy and
 * UndoRollover answer `{ key, instances }` (views: names, states, dates;
 * Register's `facts` describe the material, never hold it); Activate,
 * Revoke and DestroyCancel `{ instance }`; AliasSet and AliasRemove
 * `{ alias, key }`; PolicyGrant and PolicyRevoke `{ grant }`. Left out on
 * purpose: Get, Encrypt and the other cryptographic operations (material,
 * and nothing to do twice), ClientIssue and ClientRenew (their answer is
 * the credential itself), Destroy and ClientRevoke (always dual-controlled:
 * every send stores an approval request and none is ever recorded, so a
 * client's resend would only store a second request), the approval
 * operations (an approved request's result may hold material), Batch (its
 * items are refused one by one: a key names one write), and the officers'
 * sweeps and backups.
 */
import { OperationName } from './op-schemas';
import { invalid } from './schema';

export const REPLAYABLE_OPERATIONS = [
  'Create', 'Register', 'ReKey', 'Activate', 'Revoke', 'DestroyCancel', 'SetCustomAttributes', 'SetRolloverPolicy', 'UndoRollover',
  'AliasSet', 'AliasRemove', 'PolicyGrant', 'PolicyRevoke',
] as const satisfies readonly OperationName[];

export type ReplayableOperation = (typeof REPLAYABLE_OPERATIONS)[number];

/**
 * The custom name the outcome event of a write answered from its record
 * carries ("true"): the appliance's mark that nothing ran. A request's own
 * meta.custom may not hold it (protocol/request.ts), or a client could
 * record a real change as a replay.
 */
export const REPLAY_MARK = 'idempotentReplay';

/** 8–128 printable ASCII characters: long enough for a random UUID, safe to store, log and compare byte for byte. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{8,128}$/;
export const IDEMPOTENCY_KEY_RULE = 'idempotencyKey must be a string of 8-128 printable ASCII characters';

export function isReplayable(op: string): op is ReplayableOperation {
  return (REPLAYABLE_OPERATIONS as readonly string[]).includes(op);
}

/** The key as given, checked (INVALID_REQUEST naming the rule, or the operation that takes none); undefined when none was given. */
export function checkIdempotencyKey(op: OperationName, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw invalid(IDEMPOTENCY_KEY_RULE, 'idempotencyKey', 'string');
  }
  if (!isReplayable(op)) {
    throw invalid(`${op} takes no idempotencyKey: only ${REPLAYABLE_OPERATIONS.join(', ')} may be answered again from a stored result`, 'idempotencyKey');
  }
  return value;
}
