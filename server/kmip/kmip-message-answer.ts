/**
 * The answer to one KMIP request message, whatever carried it (TTLV on the
 * KMIP port, TTLV, JSON or XML over HTTPS): one rate-limit token before it
 * is decoded, the rest of its Batch Count once it is; a message that does
 * not decode is answered Invalid Message (or Unsupported Protocol Version);
 * the response is bounded by the client's Maximum Response Size and by
 * KMIP_MAX_RESPONSE_BYTES; the items run through the one batch executor and
 * item runner. The request's Byte Strings are zeroed once it is answered;
 * the caller encodes the response, then zeroes its Byte Strings.
 */
import { RateLimiter } from '../../common/rate-limiter';
import { kmipReasonFor } from '../../common/error-codes';
import { ClientIdentity } from '../../domain/policy/identity';
import { executeBatch, RunItem } from '../../protocol/kmip/kmip-batch-executor';
import { canUndo } from '../../protocol/kmip/batch-undo';
import { KmipCodecError } from '../../protocol/kmip/kmip-codec-error';
import { RequestMessage, ResponseMessage } from '../../protocol/kmip/kmip-message';
import { decodeRequest } from '../../protocol/kmip/kmip-message-decoder';
import { invalidMessageResponse } from '../../protocol/kmip/kmip-message-encoder';
import { KmipMessageError } from '../../protocol/kmip/kmip-message-error';
import { TtlvNode, wipeByteStrings } from '../../protocol/kmip/ttlv';

/** Largest response sent whatever the client's Maximum Response Size: what one request can make the server hold. */
export const KMIP_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface MessageAnswerContext {
  readonly identity: ClientIdentity;
  readonly rateLimiter: RateLimiter;
  /** The Batch Item runner for this identity (kmip-item-runner.ts). */
  readonly runItem: RunItem;
  /** The server's time in seconds, for the response's Time Stamp. */
  readonly now: () => bigint;
}

/**
 * `decode` turns the message's bytes into a TTLV tree; it throws
 * KmipCodecError for bytes that are not one (anything else it throws is a
 * fault of ours and propagates).
 */
export async function answerMessage(decode: () => TtlvNode, context: MessageAnswerContext): Promise<ResponseMessage> {
  const { identity, rateLimiter } = context;
  // One token before decoding, so parsing is rate limited too.
  const waitMs = rateLimiter.take(identity.name, 1);
  let request: RequestMessage;
  try {
    request = decodeRequest(decode());
  } catch (err) {
    if (err instanceof KmipCodecError || err instanceof KmipMessageError) return invalidMessageResponse(err, context.now());
    throw err;
  }
  try {
    const cost = request.batchItems.length;
    const batchWaitMs = waitMs === 0 && cost > 1 ? rateLimiter.take(identity.name, cost, 1) : 0;
    if (waitMs > 0 || batchWaitMs > 0) return rateLimited(request, Math.max(waitMs, batchWaitMs), context);
    const maximum = Math.min(request.header.maximumResponseSize ?? KMIP_MAX_RESPONSE_BYTES, KMIP_MAX_RESPONSE_BYTES);
    const bounded: RequestMessage = { ...request, header: { ...request.header, maximumResponseSize: maximum } };
    return await executeBatch(bounded, context.runItem, { timeStamp: context.now(), canUndo });
  } finally {
    for (const item of request.batchItems) wipeByteStrings(item.requestPayload);
  }
}

function rateLimited(request: RequestMessage, retryAfterMs: number, context: MessageAnswerContext): ResponseMessage {
  const reason = kmipReasonFor('RATE_LIMITED', request.header.protocolVersion.major);
  const message = `RATE_LIMITED: client "${context.identity.name}" is over its request rate; retry after ${retryAfterMs} ms`;
  return {
    header: { protocolVersion: request.header.protocolVersion, timeStamp: context.now(), batchCount: request.batchItems.length },
    batchItems: request.batchItems.map((item) => ({
      operation: item.operation,
      ...(item.uniqueBatchItemId === undefined ? {} : { uniqueBatchItemId: item.uniqueBatchItemId }),
      resultStatus: 'OperationFailed' as const,
      resultReason: reason,
      resultMessage: message,
    })),
  };
}
