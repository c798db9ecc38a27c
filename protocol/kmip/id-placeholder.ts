/**
 * The ID Placeholder (KMIP 1.4 §3.1 and the Batch Items of §7; 2.1 §6):
 * a value the server keeps for the length of one request message, so a
 * client can batch Create + Get, or Locate + GetAttributes, without knowing
 * the Unique Identifier the first item makes. Each successful item that
 * answers a Unique Identifier sets it; an item that omits its Unique
 * Identifier reads it (instance-identifier.ts `instanceNamed`). It lives in
 * the batch executor's loop and nowhere else: nothing of it outlives the
 * message, and no state is shared between connections. Pure.
 */
import { ResponseBatchItem } from './kmip-message';
import { tagNumberOf } from './kmip-message-fields';
import { TtlvNode } from './ttlv';

/**
 * The placeholder after an answered item. Only a Success sets it (a failed
 * or pending item made no object the client can name, and an item whose
 * answer was too large to send counts as failed: the client never saw its
 * identifier). Create Key Pair and Re-key Key Pair set the private key's
 * identifier, as the specification says. Locate sets it only when it found
 * exactly one object and empties it otherwise, so that items batched after
 * an ambiguous Locate fail rather than act on the wrong object (1.4 §4.9).
 * An item that answers no identifier (Query, Poll of nothing…) leaves it.
 */
export function placeholderAfter(item: ResponseBatchItem, previous: string | undefined): string | undefined {
  if (item.resultStatus !== 'Success' || item.responsePayload === undefined) return previous;
  const payload = item.responsePayload;
  if (item.operation === 'CreateKeyPair' || item.operation === 'ReKeyKeyPair') return textsOf(payload, 'PrivateKeyUniqueIdentifier')[0] ?? previous;
  const identifiers = textsOf(payload, 'UniqueIdentifier');
  if (item.operation === 'Locate') return identifiers.length === 1 ? identifiers[0] : undefined;
  return identifiers.length === 1 ? identifiers[0] : previous;
}

/** The text values of a payload's direct children with this tag. */
function textsOf(payload: TtlvNode, tag: string): string[] {
  const texts: string[] = [];
  if (payload.type !== 'Structure') return texts;
  const number = tagNumberOf(tag);
  // A loop rather than flatMap: it runs after every item of every message.
  for (const child of payload.value) if (child.tag === number && child.type === 'TextString') texts.push(child.value);
  return texts;
}
