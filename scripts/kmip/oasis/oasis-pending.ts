/**
 * Dual control in a conformance run. The appliance holds some operations
 * (Destroy, a material grant, …) for officers' approval and answers them
 * *Operation Pending*, its Asynchronous Correlation Value being the approval
 * request's id; the OASIS cases expect the outcome at once. Given officers
 * who approve (the conformance test's approvers; an operator's, by hand),
 * the runner has each pending item approved, asks for its outcome with
 * Poll as any KMIP client would, and compares that outcome with the item the
 * case expected: the Poll answer's status, reason and payload, under the
 * original item's Operation (a Poll item echoes Poll). The report says which
 * cases passed this way. Without approvers, a pending item stays what it
 * is and the comparison fails on it.
 */
import { enumeration } from '../../../protocol/kmip/dictionary';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { tag } from './oasis-rules';

/** Has officers (never the requester) approve the approval request `id`, up to its quorum. */
export type ApprovePending = (id: string) => Promise<void>;

const BATCH_ITEM = tag('BatchItem');
const OPERATION = tag('Operation');
const RESULT_STATUS = tag('ResultStatus');
const CORRELATION = tag('AsynchronousCorrelationValue');
const UNIQUE_BATCH_ITEM_ID = tag('UniqueBatchItemID');
const REQUEST_HEADER = tag('RequestHeader');
const PROTOCOL_VERSION = tag('ProtocolVersion');
const PENDING = enumeration('ResultStatus')!.byName.get('OperationPending');
const POLL = enumeration('Operation')!.byName.get('Poll')!;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function children(node: TtlvNode | undefined): readonly TtlvNode[] {
  return node?.type === 'Structure' ? node.value : [];
}

function child(node: TtlvNode | undefined, wanted: number): TtlvNode | undefined {
  return children(node).find((item) => item.tag === wanted);
}

function structure(name: string, value: readonly TtlvNode[]): TtlvNode {
  return { tag: tag(name), type: 'Structure', value };
}

/** A one-item Poll for `correlation`, in the version of the request that went pending. */
function pollRequest(request: TtlvNode, correlation: TtlvNode): TtlvNode {
  const version = child(child(request, REQUEST_HEADER), PROTOCOL_VERSION)!;
  return structure('RequestMessage', [
    structure('RequestHeader', [version, { tag: tag('BatchCount'), type: 'Integer', value: 1 }]),
    structure('BatchItem', [{ tag: OPERATION, type: 'Enumeration', value: POLL }, structure('RequestPayload', [correlation])]),
  ]);
}

/** The polled outcome as the original item: its Operation (and Unique Batch Item ID), then Poll's status, reason, message and payload. */
function asOriginal(pending: TtlvNode, polled: TtlvNode): TtlvNode {
  const keep = children(pending).filter((item) => item.tag === OPERATION || item.tag === UNIQUE_BATCH_ITEM_ID);
  const outcome = children(polled).filter((item) => item.tag !== OPERATION && item.tag !== UNIQUE_BATCH_ITEM_ID);
  return { tag: BATCH_ITEM, type: 'Structure', value: [...keep, ...outcome] };
}

export interface Settled {
  /** The answer with each pending item replaced by its outcome after approval. */
  readonly answer: TtlvNode;
  /** The answers of the Polls (their Byte Strings are the caller's to zero). */
  readonly polls: readonly TtlvNode[];
  /** How many items dual control held. */
  readonly approved: number;
}

/** Settles every pending item of `answer`: approved by `approve`, then polled through `exchange`. */
export async function settlePending(request: TtlvNode, answer: TtlvNode, exchange: (request: TtlvNode) => Promise<TtlvNode>, approve: ApprovePending): Promise<Settled> {
  const polls: TtlvNode[] = [];
  let approved = 0;
  const items: TtlvNode[] = [];
  for (const item of children(answer)) {
    const status = child(item, RESULT_STATUS);
    const correlation = child(item, CORRELATION);
    if (item.tag !== BATCH_ITEM || status?.type !== 'Enumeration' || status.value !== PENDING || correlation?.type !== 'ByteString') {
      items.push(item);
      continue;
    }
    await approve(utf8.decode(correlation.value));
    const polled = await exchange(pollRequest(request, correlation));
    polls.push(polled);
    approved++;
    items.push(asOriginal(item, child(polled, BATCH_ITEM) ?? structure('BatchItem', [])));
  }
  return { answer: { ...answer, value: items } as TtlvNode, polls, approved };
}
