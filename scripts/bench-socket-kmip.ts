/**
 * KMIP in the socket benchmark (scripts/bench-socket.ts): the wire the load
 * generator speaks to the appliance's KMIP listener and to the KMIP echo
 * ceiling, and the probe that picks what the KMIP rows measure (the bytes
 * themselves are in scripts/bench-socket-kmip-bytes.ts).
 *
 * The client stays cheap so that the numbers measure the server: each
 * request is TTLV encoded once at set-up and the same bytes are sent every
 * time; replies are cut by ttlvMessageLength and only the first Batch
 * Item's Result Status is read (a walk over a few item headers, nothing
 * decoded), the whole reply being decoded only to report a failure. KMIP
 * answers a connection's messages in order, so the nth reply is the nth
 * request's and no id is written into the request.
 *
 * Get is measured once the appliance serves it; until then (and whenever
 * the probe answers Operation Not Supported) the KMIP rows measure
 * Discover Versions, which also runs one native call through the
 * dispatcher and its audit, and the table says so.
 */
import { decodeResponse } from '../protocol/kmip/kmip-message-decoder';
import { decodeTtlv } from '../protocol/kmip/ttlv-decoder';
import { firstResultStatus, KMIP_SUCCESS, kmipDiscoverVersionsRequest, kmipGetRequests, TtlvStreamSplitter } from './bench-socket-kmip-bytes';
import { ID_MODULUS, Lane, LaneWire, roundTrip } from './bench-socket-load';

/** What a failed reply said, decoded in full (the slow path: it ends the cell). */
function describeFailure(message: Buffer): string {
  try {
    const item = decodeResponse(decodeTtlv(message)).batchItems[0];
    return `${item?.resultStatus ?? 'no batch item'} ${item?.resultReason ?? ''}: ${item?.resultMessage ?? ''}`;
  } catch (err) {
    return `an undecodable KMIP reply (${(err as Error).message})`;
  }
}

export const KMIP_WIRE: LaneWire = {
  decoder: () => new TtlvStreamSplitter(),
  stamp: () => undefined,
  answers: (lane: Lane) => {
    const id = lane.answered;
    lane.answered = (id + 1) % ID_MODULUS;
    return id;
  },
  failure: (message) => (firstResultStatus(message) === KMIP_SUCCESS ? null : describeFailure(message)),
};

export interface KmipWorkload {
  /** The KMIP operation the rows measure: Get, or Discover Versions while Get is not served. */
  readonly operation: 'Get' | 'DiscoverVersions';
  readonly requests: Buffer[];
  /** Mean reply size, for the echo ceiling. */
  readonly responseBytes: number;
}

/**
 * Probes Get on an idle KMIP lane: served, it is the workload; answered
 * Operation Not Supported, Discover Versions stands in; any other answer
 * (a grant missing, a key not found) fails the set-up, as a native probe does.
 */
export async function kmipWorkload(lane: Lane, instances: readonly string[], probes: number): Promise<KmipWorkload> {
  const gets = kmipGetRequests(instances);
  const first = await roundTrip(lane, gets[0]);
  let workload: Omit<KmipWorkload, 'responseBytes'> = { operation: 'Get', requests: gets };
  if (firstResultStatus(first) !== KMIP_SUCCESS) {
    const item = decodeResponse(decodeTtlv(first)).batchItems[0];
    if (item?.resultReason !== 'OperationNotSupported') throw new Error(`KMIP Get failed during set-up: ${describeFailure(first)}`);
    workload = { operation: 'DiscoverVersions', requests: [kmipDiscoverVersionsRequest()] };
  }
  let total = 0;
  for (let i = 0; i < probes; i++) {
    const reply = await roundTrip(lane, workload.requests[i % workload.requests.length]);
    if (KMIP_WIRE.failure(reply) !== null) throw new Error(`KMIP ${workload.operation} failed during set-up: ${describeFailure(reply)}`);
    total += reply.length;
  }
  return { ...workload, responseBytes: Math.round(total / probes / 8) * 8 };
}

