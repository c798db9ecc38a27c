/**
 * RNG Retrieve (KMIP 2.1 §6.1.44, 1.4 §4.35): Data Length bytes from the
 * server's CSPRNG through the native RandomBytes, so the request is
 * identified, rate-limited and audited like any other, and bounded by its
 * schema (1 to MAX_RANDOM_BYTES; more, or less, is Invalid Field).
 * RNG Seed is not served: the appliance draws from the operating system's
 * CSPRNG, which takes no seed from a client.
 */
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { bytesItem, PayloadReader, responsePayload } from './payload';

export const rngRetrieve: KmipOperation = {
  operation: 'RNGRetrieve',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const length = reader.integer('DataLength');
    reader.rejectOthers();
    if (length === undefined) throw new KmipOperationError('InvalidField', `${reader.path}/DataLength is required`);
    const drawn = (await ctx.call('RandomBytes', { length })) as { bytes: Buffer };
    return responsePayload([bytesItem('Data', drawn.bytes)]);
  },
};
