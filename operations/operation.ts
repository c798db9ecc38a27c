/**
 * The shape of an operation in the dispatch table. `access` is checked by the
 * dispatcher before `run`: `any` (every authenticated client), `officer`, or
 * `key` (the operation authorises against the key it touches, with
 * authorizeName / authorizeRef, because only it knows which key that is),
 * or `audit` (officers and auditors: reading the audit trail and reports).
 */
import { OperationName } from '../protocol/op-schemas';
import { Args, OperationContext } from './context';
import { DualControlClass } from '../domain/vocabulary/dual-control-classes';

export interface Operation {
  readonly name: OperationName;
  readonly access: 'any' | 'officer' | 'key' | 'audit';
  /**
   * Set on sensitive operations: the dispatcher's dual-control gate turns a
   * request into an approval request of this class instead of running it.
   * A function decides per request (a grant is sensitive only when it gives
   * access to key material; a Get only when an officer without a grant asks);
   * it may throw (KEY_NOT_FOUND) so that no request is stored for nothing;
   * undefined or null: not dual-controlled.
   */
  readonly dualControl?: DualControlClass | ((args: Args, ctx: OperationContext) => DualControlClass | null);
  /**
   * False: refused inside Batch (INVALID_REQUEST) before it runs, because one
   * run already reads up to a whole trail; 64 in one request would hold the
   * server for 64 times that. Default true.
   */
  readonly batchable?: boolean;
  run(args: Args, ctx: OperationContext): unknown;
}
