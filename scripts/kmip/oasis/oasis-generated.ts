/**
 * Which answers hold bytes that are random by nature: the runner remembers
 * the objects whose key material the server generated (from the answers to
 * Create, ReKey, …), and a batch item that uses one of them — by its Unique
 * Identifier, or by the ID Placeholder when it names none — or that asks
 * for random output (RNG Retrieve) has its key bytes, digests, cipher text,
 * MACs and IVs compared by length (oasis-rules.ts RANDOM_BYTE_TAGS). Bytes
 * of objects the case registered itself stay compared exactly.
 */
import { enumeration } from '../../../protocol/kmip/dictionary';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { CaseBindings } from './oasis-bindings';
import { GENERATING_OPERATIONS, IDENTIFIER_TAGS, RANDOM_OUTPUT_OPERATIONS, tag } from './oasis-rules';

const BATCH_ITEM = tag('BatchItem');
const OPERATION = tag('Operation');
const RESULT_STATUS = tag('ResultStatus');
const REQUEST_PAYLOAD = tag('RequestPayload');
const RESPONSE_PAYLOAD = tag('ResponsePayload');
const SUCCESS = enumeration('ResultStatus')!.byName.get('Success');

function children(node: TtlvNode | undefined): readonly TtlvNode[] {
  return node?.type === 'Structure' ? node.value : [];
}

function child(node: TtlvNode | undefined, wanted: number): TtlvNode | undefined {
  return children(node).find((item) => item.tag === wanted);
}

function operationOf(item: TtlvNode): string | undefined {
  const operation = child(item, OPERATION);
  return operation?.type === 'Enumeration' ? enumeration('Operation')!.byValue.get(operation.value) : undefined;
}

/** Every object identifier anywhere in `node`. */
function identifiersIn(node: TtlvNode | undefined, into: string[] = []): string[] {
  if (node === undefined) return into;
  if (node.type === 'TextString' && IDENTIFIER_TAGS.has(node.tag)) into.push(node.value);
  for (const item of children(node)) identifiersIn(item, into);
  return into;
}

/**
 * For each batch item of a request: is the answer's derived material
 * random? `response` (the server's answer, when there is one) tells which
 * object each earlier item of the batch answered: a Locate or Register
 * there sets the ID Placeholder to an object that may have been generated
 * in an earlier case, a Create to one generated now.
 */
export function randomItemsOf(request: TtlvNode, bindings: CaseBindings, response?: TtlvNode): boolean[] {
  let placeholderGenerated = bindings.lastUniqueIdentifier !== undefined && bindings.generated.has(bindings.lastUniqueIdentifier);
  const answers = children(response).filter((item) => item.tag === BATCH_ITEM);
  return children(request)
    .filter((item) => item.tag === BATCH_ITEM)
    .map((item, index) => {
      const operation = operationOf(item) ?? '';
      const named = identifiersIn(child(item, REQUEST_PAYLOAD));
      const random = RANDOM_OUTPUT_OPERATIONS.has(operation) || (named.length > 0 ? named.some((id) => bindings.generated.has(id)) : placeholderGenerated);
      // An item earlier in the batch sets the ID Placeholder for the items after it: a generating one to a generated object, another to the object it answered.
      const answered = returnedBy(answers[index]);
      if (GENERATING_OPERATIONS.has(operation)) placeholderGenerated = true;
      else if (answered.length > 0) placeholderGenerated = answered.some((id) => bindings.generated.has(id));
      return random;
    });
}

/** The object identifiers a successful answer returned (none for a failure). */
function returnedBy(item: TtlvNode | undefined): string[] {
  const status = child(item, RESULT_STATUS);
  if (status?.type !== 'Enumeration' || status.value !== SUCCESS) return [];
  return children(child(item, RESPONSE_PAYLOAD)).flatMap((field) => (field.type === 'TextString' && IDENTIFIER_TAGS.has(field.tag) ? [field.value] : []));
}

/** Learns from an answer: which objects were generated, and the ID Placeholder's new value. */
export function learnFromResponse(response: TtlvNode, bindings: CaseBindings): void {
  for (const item of children(response)) {
    if (item.tag !== BATCH_ITEM) continue;
    const returned = returnedBy(item);
    if (returned.length === 0) continue;
    bindings.lastUniqueIdentifier = returned[returned.length - 1];
    if (GENERATING_OPERATIONS.has(operationOf(item) ?? '')) for (const id of returned) bindings.generated.add(id);
  }
}
