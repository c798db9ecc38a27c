/**
 * Runs the Batch Items of one decoded request and builds the response
 * (docs/kmip.md §2.4): Batch Error Continuation Option (Continue, Stop,
 * Undo), Unique Batch Item IDs echoed, Maximum Response Size. What each item
 * does is the caller's `runItem` (the operation layer, through the one
 * dispatcher); this module only orders the items and shapes the answer.
 * The ID Placeholder is kept here, for the length of the message
 * (id-placeholder.ts). Pure: the time stamp is given, and nothing here touches I/O or a clock.
 *
 * `runItem` maps every refusal of an operation to an outcome; if it throws,
 * the error is the caller's to handle (the transport answers General Failure
 * or closes the connection), since a bug must not pass for a KMIP result.
 */
import { placeholderAfter } from './id-placeholder';
import { RequestBatchItem, RequestMessage, ResponseBatchItem, ResponseHeader, ResponseMessage } from './kmip-message';
import { encodeResponse, encodeResponseItem } from './kmip-message-encoder';
import { encodedLength } from './ttlv-encoder';
import { TtlvNode, wipeByteStrings } from './ttlv';

/** What one Batch Item came to. */
export type ItemOutcome =
  | {
      readonly status: 'Success';
      /** The Response Payload structure. */
      readonly payload: TtlvNode;
      /** Reverses the item, for a batch with Undo; present only for operations that can be undone. */
      readonly undo?: Undo;
    }
  | { readonly status: 'OperationFailed'; readonly reason: string; readonly message?: string }
  /** No Result Message: KMIP allows one only when the status is neither Pending nor Success. */
  | { readonly status: 'OperationPending'; readonly asynchronousCorrelationValue: Uint8Array };

/**
 * Reverses one item. It resolves with `refused` (the reason, for the
 * client) when the server would not undo it (the object changed since, the
 * client lost the permission): the item then stands. A rejection is a fault.
 */
export type Undo = () => Promise<{ readonly refused?: string }>;

/**
 * Runs one item. `idPlaceholder` is the batch's ID Placeholder when the item
 * runs (id-placeholder.ts): what an item that omits its Unique Identifier means.
 */
export type RunItem = (item: RequestBatchItem, request: RequestMessage, idPlaceholder: string | undefined) => Promise<ItemOutcome>;

export interface BatchContext {
  /** The response's Time Stamp, seconds since 1970. */
  readonly timeStamp: bigint;
  readonly serverCorrelationValue?: string;
  /**
   * Whether an operation can be undone. A batch of several items with Undo
   * runs only if every item's operation can; otherwise nothing runs and every
   * item answers Feature Not Supported. Default: none can.
   */
  readonly canUndo?: (operation: string) => boolean;
}

export const RESPONSE_TOO_LARGE_MESSAGE = 'The answer to this item exceeds the Maximum Response Size: raise the size or ask for less';

export async function executeBatch(request: RequestMessage, runItem: RunItem, context: BatchContext): Promise<ResponseMessage> {
  const option = request.header.batchErrorContinuationOption ?? 'Stop';
  const respond = (batchItems: ResponseBatchItem[]): ResponseMessage => {
    // An assignment, not a spread in the middle of the literal (a slow generic copy, twice per message).
    const header: { -readonly [K in keyof ResponseHeader]: ResponseHeader[K] } = { protocolVersion: request.header.protocolVersion, timeStamp: context.timeStamp, batchCount: batchItems.length };
    if (context.serverCorrelationValue !== undefined) header.serverCorrelationValue = context.serverCorrelationValue;
    return { header, batchItems };
  };

  const notUndoable = option === 'Undo' && request.batchItems.length > 1 ? request.batchItems.filter((item) => !(context.canUndo?.(item.operation) ?? false)) : [];
  if (notUndoable.length > 0) {
    const names = [...new Set(notUndoable.map((item) => item.operation))].join(', ');
    const message = `Batch Error Continuation Option Undo is not supported for ${names}: send the batch with Stop or Continue`;
    return respond(request.batchItems.map((item) => ({ ...echo(item), resultStatus: 'OperationFailed', resultReason: 'FeatureNotSupported', resultMessage: message })));
  }

  const maximum = request.header.maximumResponseSize;
  // Sizes are measured, not encoded: the transport encodes the response once, when it sends it.
  let size = encodedLength(encodeResponse(respond([])));
  const answered: Answered[] = [];
  let failed = false;
  // Per request message: each batch starts with none (docs/kmip.md §2.4).
  let idPlaceholder: string | undefined;
  for (const requestItem of request.batchItems) {
    const outcome = await runItem(requestItem, request, idPlaceholder);
    let item = toResponseItem(requestItem, outcome);
    let itemSize = encodedSize(item);
    const undo = outcome.status === 'Success' ? outcome.undo : undefined;
    if (maximum !== undefined && size + itemSize > maximum) {
      // The payload is never sent: its key material is zeroed here, since the transport wipes only what it encodes.
      wipeByteStrings(item.responsePayload);
      item = { ...echo(requestItem), resultStatus: 'OperationFailed', resultReason: 'ResponseTooLarge', resultMessage: RESPONSE_TOO_LARGE_MESSAGE };
      itemSize = encodedSize(item);
    }
    size += itemSize;
    idPlaceholder = placeholderAfter(item, idPlaceholder);
    answered.push({ item, undo });
    if (item.resultStatus === 'OperationFailed') {
      failed = true;
      if (option !== 'Continue') break;
    }
  }

  if (failed && option === 'Undo') await undoAnswered(answered);
  return respond(answered.map(({ item }) => item));
}

type Answered = { item: ResponseBatchItem; undo?: Undo };

/**
 * Undoes, newest first, every item that took effect: those answered Success
 * become Operation Undone (keeping their payload, as the OASIS test case
 * BL-M-2-21 shows), and the failed one is reversed too when it took effect
 * but its answer was too large. An item without an undo, or whose undo was
 * refused, keeps its answer: it did happen. KMIP says nothing of an undo
 * that cannot be done; the failed item's Result Message then names the
 * items that stand, so the client is not left believing all was undone.
 */
async function undoAnswered(answered: Answered[]): Promise<void> {
  const stand: string[] = [];
  for (let i = answered.length - 1; i >= 0; i--) {
    const entry = answered[i];
    if (entry.undo === undefined) continue;
    const { refused } = await entry.undo();
    if (refused !== undefined) stand.unshift(`item ${i + 1} (${entry.item.operation}) stands: ${refused}`);
    else if (entry.item.resultStatus === 'Success') entry.item = { ...entry.item, resultStatus: 'OperationUndone' };
  }
  const last = answered[answered.length - 1];
  if (stand.length > 0 && last.item.resultStatus === 'OperationFailed') {
    last.item = { ...last.item, resultMessage: `${last.item.resultMessage ?? last.item.resultReason}; the batch could not be undone in full: ${stand.join('; ')}` };
  }
}

/** An item's encoded size; the bytes measured hold what the payload holds (a Get's key material), so they are zeroed. */
/** The item's encoded size, measured without encoding it: no copy of its key bytes is made only to be counted. */
function encodedSize(item: ResponseBatchItem): number {
  return encodedLength(encodeResponseItem(item));
}

function echo(item: RequestBatchItem): Pick<ResponseBatchItem, 'operation' | 'uniqueBatchItemId'> {
  return { operation: item.operation, ...(item.uniqueBatchItemId === undefined ? {} : { uniqueBatchItemId: item.uniqueBatchItemId }) };
}

/** Assignments rather than spreads of echo(): this runs for every item of every message, and spreading cost as much as encoding the item. */
function toResponseItem(requestItem: RequestBatchItem, outcome: ItemOutcome): ResponseBatchItem {
  const item: { -readonly [K in keyof ResponseBatchItem]: ResponseBatchItem[K] } = { operation: requestItem.operation, resultStatus: outcome.status };
  if (requestItem.uniqueBatchItemId !== undefined) item.uniqueBatchItemId = requestItem.uniqueBatchItemId;
  switch (outcome.status) {
    case 'Success':
      item.responsePayload = outcome.payload;
      break;
    case 'OperationFailed':
      item.resultReason = outcome.reason;
      if (outcome.message !== undefined) item.resultMessage = outcome.message;
      break;
    case 'OperationPending':
      item.asynchronousCorrelationValue = outcome.asynchronousCorrelationValue;
      break;
  }
  return item;
}
