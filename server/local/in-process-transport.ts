/**
 * The CLI's local mode as a transport: requests go through the same JSON
 * codec and the same dispatcher as the TLS listener, in this process, as the
 * local operator (local-operator.ts). So a local command gets exactly the
 * wire's access checks, dual-control refusals (DUAL_CONTROL_LOCAL_MODE),
 * audit events and error codes; the CLI's commands are written once against
 * a Requester and cannot tell the two apart. Each answer waits until its
 * audit event is durable; if it cannot be written the answer is
 * AUDIT_UNAVAILABLE and the result is withheld, as on the wire.
 *
 * It opens the data folder's keychain and unseals it with the HSM (PIN file
 * or variable). A keychain bound to custodian shares cannot be unsealed
 * here: its requests are refused sealed, and recorded, and the caller is
 * told why (the unseal's own error: UNSEAL_SHARES_REQUIRED).
 */
import { ApplianceConfig } from '../../common/config';
import { asStrongroomError, StrongroomError } from '../../common/errors';
import { ErrorCode } from '../../common/error-codes';
import { silentLogger } from '../../common/logger';
import { systemClock } from '../../common/clock';
import { systemTimers } from '../../common/timers';
import { FrameDecoder, HARD_MAX_FRAME_BYTES } from '../../protocol/frame-codec';
import { OperationName } from '../../protocol/op-schemas';
import { Requester } from '../../protocol/requester';
import { decodeRequest } from '../../protocol/request';
import { binaryToBase64, decodeResponse, encodeError, encodeResult } from '../../protocol/response';
import { openAuditPipeline } from '../compose/audit-pipeline';
import { openAppliance } from '../compose/open-appliance';
import { composeServices } from '../compose/services';
import { wipeBuffers } from '../tls/connection';
import { ClientIdentity } from '../../domain/policy/identity';
import { ServerLimits } from '../../operations/context';
import { Dispatcher } from '../../operations/dispatcher';
import { LOCAL_SOURCE, localOperator } from './local-operator';


function payloadOf(frame: Buffer): Buffer {
  const [payload] = new FrameDecoder(HARD_MAX_FRAME_BYTES).push(frame);
  return payload;
}

/** What the in-process transport sends requests into. */
export interface InProcessEntrance {
  readonly dispatcher: Dispatcher;
  readonly limits: Pick<ServerLimits, 'maxJsonDepth' | 'maxJsonElements'>;
  /** Who the requests are from (the local operator; a conformance test passes a client's identity). */
  readonly identity: ClientIdentity;
  /** Why the keychain is sealed, when known: answered instead of a bare SEALED. */
  readonly sealedBecause?: () => StrongroomError | null;
}

/**
 * One request through the JSON codec into the dispatcher and back, in this
 * process: the request is encoded and decoded as the wire would carry it,
 * its answer waits for its audit events, and is encoded and decoded again.
 */
export function inProcessRequester(entrance: InProcessEntrance): Requester {
  let sequence = 0;
  async function answer(op: OperationName, args: Record<string, unknown>): Promise<Buffer> {
    const id = `${LOCAL_SOURCE}-${++sequence}`;
    // Buffers become base64 before JSON.stringify could copy them into number arrays.
    const requestBytes = Buffer.from(JSON.stringify({ id, op, args: binaryToBase64(args, 1) }), 'utf8');
    const request = decodeRequest(requestBytes, { maxDepth: entrance.limits.maxJsonDepth, maxElements: entrance.limits.maxJsonElements });
    requestBytes.fill(0);
    const audits: Array<Promise<void>> = [];
    let result: unknown;
    try {
      result = await entrance.dispatcher.dispatch({ ...request, identity: entrance.identity, source: { transport: 'local', address: null } }, audits);
    } catch (err) {
      await Promise.allSettled(audits);
      const error = asStrongroomError(err);
      // A share-bound keychain opened locally: say why it is sealed, not only that it is.
      throw (error.code === 'SEALED' && entrance.sealedBecause?.()) || error;
    } finally {
      wipeBuffers(request.args);
    }
    try {
      await Promise.all(audits);
    } catch (auditError) {
      wipeBuffers(result);
      throw auditError;
    }
    try {
      return encodeResult(id, result);
    } finally {
      wipeBuffers(result);
    }
  }
  return {
    async request<R>(op: OperationName, args: Record<string, unknown> = {}): Promise<R> {
      let frame: Buffer;
      try {
        frame = await answer(op, args);
      } catch (err) {
        frame = encodeError(null, asStrongroomError(err));
      }
      const response = decodeResponse(payloadOf(frame));
      frame.fill(0);
      if (response.error) throw new StrongroomError(response.error.code as ErrorCode, response.error.message, { details: response.error.details as never });
      return response.result as R;
    },
    close: async () => undefined,
  };
}

/** Local mode: the data folder's keychain, unsealed with the HSM PIN, its dispatcher, as the local operator. */
export function openInProcessTransport(config: ApplianceConfig, options: { warn?: (message: string) => void } = {}): Requester {
  const clock = systemClock;
  const appliance = openAppliance(config, { warn: options.warn });
  const audit = openAuditPipeline(appliance, { clock, timers: systemTimers, log: silentLogger, inProcess: true });
  const { services, dispatcher } = composeServices(appliance, { clock, timers: systemTimers, log: silentLogger, audit });
  let unsealError: StrongroomError | null = null;
  // Not approvals.start(): that is the serving appliance's recovery (it fails requests a stop
  // interrupted), and a server may be running on this keychain now, in the middle of one.
  const ready = appliance.unseal().then(
    () => undefined,
    (err: unknown) => {
      unsealError = asStrongroomError(err);
    },
  );
  const requester = inProcessRequester({ dispatcher, limits: services.limits, identity: localOperator(), sealedBecause: () => unsealError });
  return {
    async request<R>(op: OperationName, args: Record<string, unknown> = {}): Promise<R> {
      await ready;
      return requester.request<R>(op, args);
    },
    async close() {
      await ready;
      services.unsealing?.close();
      await audit.close();
      await appliance.close();
    },
  };
}
