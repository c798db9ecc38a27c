/**
 * Interop (KMIP 2.1 §6.1.24): a test harness marks where an interoperability
 * test case begins, ends or is reset (Interop Function Begin, End, Reset;
 * Interop Identifier: the case's name). Through the native Interop, which
 * writes the marker into the audit trail and is served only when the
 * appliance's `kmip_interop` setting is on (else Operation Not Supported).
 * The Response Payload is empty.
 */
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { PayloadReader, responsePayload } from './payload';

const FUNCTIONS: Readonly<Record<string, 'begin' | 'end' | 'reset'>> = { Begin: 'begin', End: 'end', Reset: 'reset' };

export const interop: KmipOperation = {
  operation: 'Interop',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    // A value KMIP does not define is refused by enumName itself (Invalid Field).
    const name = reader.enumName('InteropFunction');
    if (name === undefined) throw new KmipOperationError('InvalidField', 'RequestPayload/InteropFunction is required');
    const identifier = reader.requiredText('InteropIdentifier');
    reader.rejectOthers();
    await ctx.call('Interop', { function: FUNCTIONS[name], identifier });
    return responsePayload([]);
  },
};
