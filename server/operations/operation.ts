/**
 * The shape of an operation in the dispatch table. `access` is checked by the
 * dispatcher before `run`: `any` (every authenticated client), `officer`, or
 * `key` (the operation authorises against the key it touches, with
 * authorizeName / authorizeRef, because only it knows which key that is).
 */
import { OperationName } from '../protocol/op-schemas';
import { Args, OperationContext } from './context';

export interface Operation {
  readonly name: OperationName;
  readonly access: 'any' | 'officer' | 'key';
  run(args: Args, ctx: OperationContext): unknown;
}
