/**
 * The filter flags shared by `audit search` and `audit export`, and their
 * translation into AuditSearch's arguments (checked by the dispatcher, in
 * this process or on the server).
 */
import { Command } from 'commander';
import type { AuditSearchArgs } from '../../client/types';
import { positiveInteger } from '../backend/audit-backend';

export interface AuditFilterFlags {
  readonly from?: string;
  readonly to?: string;
  readonly identity?: string;
  readonly keyName?: string;
  readonly operation?: string;
  readonly result?: string;
  readonly type?: string;
  readonly fromSeq?: string;
}

export function addAuditFilterOptions(command: Command): Command {
  return command
    .option('--from <time>', 'events at or after this ISO 8601 time (e.g. 2026-11-01 or 2026-11-01T08:00:00Z)')
    .option('--to <time>', 'events before this ISO 8601 time')
    .option('--identity <who>', 'client name, or certificate SHA-256 fingerprint (with or without colons)')
    .option('--key-name <name>', "key name, or a glob on full names (e.g. 'hr/*'), matched against the key an operation resolved (an alias's target, an instance's key); a name without a namespace is default/NAME (--key is the client key file)")
    .option('--operation <op>', 'operation name (Get, Encrypt, ReKey, …)')
    .option('--result <result>', '"ok", "error" (any other result), or one error code (e.g. PERMISSION_DENIED)')
    .option('--type <type>', "event type or glob: operation, intent (before a state change), auth-failure, rollover, 'approval*', …")
    .option('--from-seq <seq>', 'start at this event sequence number (the cursor a previous page printed)');
}

export function queryOf(flags: AuditFilterFlags): AuditSearchArgs {
  return {
    from: flags.from,
    to: flags.to,
    identity: flags.identity,
    key: flags.keyName,
    operation: flags.operation,
    result: flags.result,
    type: flags.type,
    fromSeq: positiveInteger(flags.fromSeq, '--from-seq'),
  };
}

/** True when any flag but --from-seq narrows the events (the export then has gaps). */
export function narrows(flags: AuditFilterFlags): boolean {
  return [flags.from, flags.to, flags.identity, flags.keyName, flags.operation, flags.result, flags.type].some((v) => v !== undefined);
}
