/**
 * Cancel (KMIP 2.1 §6.1.5, 1.4 §4.27): the requester withdraws an operation
 * dual control holds, through the native ApprovalCancel (only its requester
 * may; an app is told another's request does not exist, an officer is
 * refused Permission Denied; an unknown value is Invalid Asynchronous
 * Correlation Value). The Cancellation Result says how it stands:
 * - Canceled: it was waiting (pending, or an approved export not yet
 *   collected) and is withdrawn; also when it was already cancelled;
 * - Completed: officers approved it and it ran (Poll gives its answer);
 * - Failed: it ended without running: denied, expired, or approved and failed;
 * - Unable To Cancel: approved and still running.
 */
import { asStrongroomError } from '../../../common/errors';
import { KmipOperation } from './kmip-operation';
import { approvalIdOf } from './correlation-value';
import { bytesItem, enumItem, PayloadReader, responsePayload } from './payload';

/** A state the native ApprovalCancel refused to move from → the Cancellation Result. */
const RESULT_OF_STATE: Readonly<Record<string, string>> = {
  cancelled: 'Canceled',
  executed: 'Completed',
  failed: 'Failed',
  denied: 'Failed',
  expired: 'Failed',
  executing: 'UnableToCancel',
};

async function cancellationResult(id: string, call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'Canceled';
  } catch (err) {
    const error = asStrongroomError(err);
    if (error.code === 'APPROVAL_EXPIRED') return 'Failed';
    const state = error.details.state;
    if (error.code === 'APPROVAL_NOT_PENDING' && typeof state === 'string' && RESULT_OF_STATE[state] !== undefined) return RESULT_OF_STATE[state];
    // Not found, not the requester's, a sealed appliance: the refusal itself is the answer.
    throw err;
  }
}

export const cancel: KmipOperation = {
  operation: 'Cancel',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const id = approvalIdOf(reader);
    reader.rejectOthers();
    const result = await cancellationResult(id, () => ctx.call('ApprovalCancel', { id }));
    return responsePayload([bytesItem('AsynchronousCorrelationValue', Buffer.from(id, 'utf8')), enumItem('CancellationResult', result)]);
  },
};
