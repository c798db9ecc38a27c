/**
 * Interop (docs/protocol.md §6; KMIP 2.1 §6.1.24): a test harness tells the
 * server which interoperability test case begins, ends or is reset. The
 * appliance keeps no per-case state; it writes one `interop` audit event
 * naming the function and the identifier, so that a conformance run's trail
 * shows where each case starts and stops. It is a harness's operation, not an
 * application's: served only when `kmip_interop = on` (default off), else
 * refused as an operation this server does not have (UNKNOWN_OPERATION), so
 * that on a production appliance no client can write markers into the trail.
 * The identifier is short (MAX_INTEROP_IDENTIFIER, checked by the schema).
 */
import { recordClientMarker } from './client-marker';
import { ProtocolError } from '../protocol/protocol-error';
import { Operation } from './operation';

/** The audit event type an Interop writes. */
export const INTEROP_EVENT = 'interop';

export const interop: Operation<'Interop'> = {
  name: 'Interop',
  access: 'any',
  run: (args, ctx) => {
    const { services } = ctx;
    if (services.interopServed !== true) {
      throw new ProtocolError('UNKNOWN_OPERATION', 'Interop is a test harness\'s operation and is not served here (kmip_interop is off)');
    }
    recordClientMarker(ctx, INTEROP_EVENT, 'Interop', { function: args.function, identifier: args.identifier });
    return {};
  },
};
