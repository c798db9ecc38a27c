/**
 * Destroy (KMIP 2.1 §6.1.17, 1.4 §4.21) through the native Destroy: an
 * instance that is not Active has its destruction scheduled after
 * destruction_wait (cancellable natively with DestroyCancel meanwhile; P0D
 * destroys at once). Every Destroy is dual-controlled (class key-destroy):
 * the first answer is Operation Pending, and Poll gives this payload once
 * officers approved it, hence `nativeResult`. An Active instance is refused
 * before any approval is asked (Wrong Key Lifecycle State; 1.x, which has
 * no such reason: Permission Denied, as OASIS SKLC-M-2-14 and PyKMIP's
 * server answer): KMIP destroys only Pre-Active or Deactivated objects too.
 */
import { asStrongroomError } from '../../../common/errors';
import { instanceNamed, uniqueIdentifierPayload } from './instance-identifier';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { PayloadReader } from './payload';

export const destroy: KmipOperation = {
  operation: 'Destroy',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    reader.rejectOthers();
    try {
      return uniqueIdentifierPayload(await ctx.call('Destroy', { instance }));
    } catch (err) {
      const error = asStrongroomError(err);
      if (error.code !== 'WRONG_STATE' || ctx.version.major >= 2) throw err;
      throw new KmipOperationError('PermissionDenied', `${error.code}: ${error.message}`);
    }
  },
  nativeResult: { operation: 'Destroy', toPayload: uniqueIdentifierPayload },
};
