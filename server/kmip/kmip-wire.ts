/**
 * KMIP as one more wire of the mutual-TLS listener (server/tls/key-server.ts):
 * the same handshake, certificates, client records, connection caps and
 * refusal audit as the native protocol; each connection runs its Batch
 * Items through the one dispatcher (kmip-item-runner.ts). A refused peer
 * gets no bytes (KMIP has no unsolicited message) and is closed.
 */
import { Clock } from '../../common/clock';
import { RateLimiter } from '../../common/rate-limiter';
import { Timers } from '../../common/timers';
import { Dispatcher } from '../../operations/dispatcher';
import { KmipOperation } from '../../protocol/kmip/operations/kmip-operation';
import { Wire } from '../tls/key-server';
import { KmipConnection } from './kmip-connection';
import { kmipItemRunner } from './kmip-item-runner';

export interface KmipWireOptions {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly rateLimiter: RateLimiter;
  readonly dispatcher: Dispatcher;
  readonly operations: ReadonlyMap<string, KmipOperation>;
  readonly newId: () => string;
  readonly onInternalError: (err: unknown) => void;
}

export function kmipWire(options: KmipWireOptions): Wire {
  return {
    name: 'for KMIP ',
    settings: 'listen_address or kmip_port',
    open: (socket, identity) =>
      new KmipConnection(socket, identity, {
        ...options,
        runItem: kmipItemRunner({
          dispatcher: options.dispatcher,
          operations: options.operations,
          identity,
          source: { transport: 'kmip', address: socket.remoteAddress ?? null },
          newRequestId: () => `kmip-${options.newId()}`,
          onInternalError: options.onInternalError,
          nowMs: () => options.clock.nowMs(),
          newId: options.newId,
        }),
      }),
    refusal: () => Buffer.alloc(0),
  };
}
