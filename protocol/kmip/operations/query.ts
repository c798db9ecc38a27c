/**
 * Query (KMIP 2.1 §6.1.37, 1.4 §4.25): what this server serves, for each
 * Query Function asked: the operations, the object types, the vendor and
 * server information. Through the native Query, so it is identified and
 * audited like any other request.
 */
import { KmipOperation } from './kmip-operation';
import { enumItem, PayloadReader, responsePayload, textItem } from './payload';

/** The object types a KMIP client can create, register or get here. */
export const SERVED_OBJECT_TYPES = ['SymmetricKey', 'SecretData', 'OpaqueObject', 'Certificate', 'PublicKey', 'PrivateKey'] as const;
export const VENDOR_IDENTIFICATION = 'Strongroom';

export const query: KmipOperation = {
  operation: 'Query',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const functions = new Set(reader.enumNames('QueryFunction'));
    reader.rejectOthers();
    await ctx.call('Query', {});
    return responsePayload([
      functions.has('QueryOperations') ? ctx.served.map((name) => enumItem('Operation', name)) : undefined,
      functions.has('QueryObjects') ? SERVED_OBJECT_TYPES.map((type) => enumItem('ObjectType', type)) : undefined,
      functions.has('QueryServerInformation') ? textItem('VendorIdentification', VENDOR_IDENTIFICATION) : undefined,
    ]);
  },
};
