/**
 * The Asynchronous Correlation Value this server gives a pending item is
 * the id of the approval request dual control stored for it, in UTF-8
 * (server/kmip/kmip-item-runner.ts). Poll and Cancel read it back (byte for
 * byte: a byte-order mark is kept, not stripped). A value
 * that cannot be one of ours is refused as the native wire refuses an
 * unknown id (APPROVAL_NOT_FOUND: Invalid Asynchronous Correlation Value in
 * 2.x, Item Not Found in 1.x), without quoting the bytes.
 */
import { ApprovalError } from '../../../common/errors';
import { MAX_TOKEN_LENGTH } from '../../op-schemas';
import { KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function approvalIdOf(reader: PayloadReader): string {
  const value = reader.bytes('AsynchronousCorrelationValue');
  if (value === undefined) throw new KmipOperationError('InvalidField', `${reader.path}/AsynchronousCorrelationValue is required`);
  let id: string | null = null;
  try {
    id = utf8.decode(value);
  } catch {
    // Not UTF-8: not an id this server gave.
  }
  if (id === null || id.length === 0 || id.length > MAX_TOKEN_LENGTH) {
    throw new ApprovalError('APPROVAL_NOT_FOUND', 'no pending operation has that Asynchronous Correlation Value: it is not one this server gave');
  }
  return id;
}
