/**
 * The ID Placeholder through the batch executor, with a fake runItem that
 * records the placeholder each item saw: set by a successful item's Unique
 * Identifier (the private key's for Create Key Pair), emptied by a Locate
 * that did not find exactly one object, untouched by failed, pending and
 * too-large items, fresh for each request message; and how an operation
 * reads it (`instanceNamed`): the item's own Unique Identifier first, the
 * placeholder when omitted, Item Not Found when neither is there.
 */
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { executeBatch, ItemOutcome } from '../../../protocol/kmip/kmip-batch-executor';
import { BatchErrorContinuationOption, RequestMessage } from '../../../protocol/kmip/kmip-message';
import { instanceNamed } from '../../../protocol/kmip/operations/instance-identifier';
import { KmipOperationError } from '../../../protocol/kmip/operations/kmip-operation';
import { PayloadReader } from '../../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { FIXED_NOW } from './oasis-test-cases';

const tag = (name: string): number => tagNumber(name)!;
const text = (name: string, value: string): TtlvNode => ({ tag: tag(name), type: 'TextString', value });
const structure = (name: string, value: TtlvNode[]): TtlvNode => ({ tag: tag(name), type: 'Structure', value });
const answering = (...fields: TtlvNode[]): ItemOutcome => ({ status: 'Success', payload: structure('ResponsePayload', fields) });
const created = (uid: string): ItemOutcome => answering(text('ObjectType', 'x'), text('UniqueIdentifier', uid));
const failed: ItemOutcome = { status: 'OperationFailed', reason: 'ItemNotFound', message: 'No such key' };

function batch(operations: string[], option: BatchErrorContinuationOption = 'Continue', maximumResponseSize?: number): RequestMessage {
  return {
    header: { protocolVersion: { major: 1, minor: 4 }, batchErrorContinuationOption: option, batchCount: operations.length, ...(maximumResponseSize === undefined ? {} : { maximumResponseSize }) },
    batchItems: operations.map((operation) => ({ operation, requestPayload: structure('RequestPayload', []) })),
  };
}

/** Answers each item with the next outcome; `seen` is the ID Placeholder each item was run with. */
function recording(outcomes: ItemOutcome[]) {
  const seen: Array<string | undefined> = [];
  const runItem = async (_item: unknown, _request: unknown, idPlaceholder: string | undefined): Promise<ItemOutcome> => {
    seen.push(idPlaceholder);
    return outcomes[seen.length - 1];
  };
  return { runItem, seen };
}

async function placeholdersSeen(operations: string[], outcomes: ItemOutcome[], option?: BatchErrorContinuationOption, maximumResponseSize?: number) {
  const { runItem, seen } = recording(outcomes);
  const response = await executeBatch(batch(operations, option, maximumResponseSize), runItem, { timeStamp: FIXED_NOW });
  return { seen, statuses: response.batchItems.map((item) => item.resultStatus) };
}

describe('KMIP ID Placeholder in a batch', () => {
  it('starts empty, and a successful Create sets it for the items after it', async () => {
    const { seen } = await placeholdersSeen(['Create', 'Get', 'Activate'], [created('k/1'), created('k/1'), created('k/1')]);
    expect(seen).toEqual([undefined, 'k/1', 'k/1']);
  });

  it('follows the newest item that answered a Unique Identifier, and is kept by one that answered none', async () => {
    const { seen } = await placeholdersSeen(['Create', 'Query', 'Register', 'Get'], [created('a/1'), answering(), created('b/1'), created('b/1')]);
    expect(seen).toEqual([undefined, 'a/1', 'a/1', 'b/1']);
  });

  it("is set to the private key's identifier by Create Key Pair", async () => {
    const pair = answering(text('PrivateKeyUniqueIdentifier', 'pair/private'), text('PublicKeyUniqueIdentifier', 'pair/public'));
    const { seen } = await placeholdersSeen(['CreateKeyPair', 'Get'], [pair, created('pair/private')]);
    expect(seen).toEqual([undefined, 'pair/private']);
  });

  it('is set by a Locate that found one object, and emptied by one that found none or several', async () => {
    const { seen } = await placeholdersSeen(
      ['Create', 'Locate', 'Get', 'Locate', 'Get', 'Create', 'Locate', 'Get'],
      [created('a/1'), answering(text('UniqueIdentifier', 'l/1')), created('l/1'), answering(text('UniqueIdentifier', 'x/1'), text('UniqueIdentifier', 'y/1')), failed, created('c/1'), answering(), failed],
    );
    expect(seen).toEqual([undefined, 'a/1', 'l/1', 'l/1', undefined, undefined, 'c/1', undefined]);
  });

  it('is left as it was by a failed item (Continue), so the items after it still read the earlier object', async () => {
    const { seen, statuses } = await placeholdersSeen(['Create', 'Create', 'Get'], [created('a/1'), failed, created('a/1')]);
    expect(statuses).toEqual(['Success', 'OperationFailed', 'Success']);
    expect(seen).toEqual([undefined, 'a/1', 'a/1']);
  });

  it('is not set by a pending item, nor by one whose answer was too large to send', async () => {
    const pending: ItemOutcome = { status: 'OperationPending', asynchronousCorrelationValue: new Uint8Array([1]) };
    const pendingRun = await placeholdersSeen(['Create', 'Get'], [pending, failed]);
    expect(pendingRun.seen).toEqual([undefined, undefined]);
    const big = answering(text('UniqueIdentifier', 'big/1'), { tag: tag('KeyMaterial'), type: 'ByteString', value: new Uint8Array(400) });
    const tooLarge = await placeholdersSeen(['Create', 'Get', 'Get'], [created('a/1'), big, created('a/1')], 'Continue', 300);
    expect(tooLarge.statuses.slice(0, 2)).toEqual(['Success', 'OperationFailed']);
    expect(tooLarge.seen).toEqual([undefined, 'a/1', 'a/1']);
  });

  it('belongs to one request message: the next batch starts without it', async () => {
    const { runItem, seen } = recording([created('a/1'), created('a/1')]);
    await executeBatch(batch(['Create']), runItem, { timeStamp: FIXED_NOW });
    await executeBatch(batch(['Get']), runItem, { timeStamp: FIXED_NOW });
    expect(seen).toEqual([undefined, undefined]);
  });
});

describe('instanceNamed', () => {
  const reader = (...fields: TtlvNode[]) => new PayloadReader(structure('RequestPayload', fields));

  it("takes the item's own Unique Identifier before the placeholder", () => {
    expect(instanceNamed(reader(text('UniqueIdentifier', 'own/1')), { idPlaceholder: 'other/1' })).toBe('own/1');
  });

  it('takes the placeholder when the Unique Identifier is omitted', () => {
    expect(instanceNamed(reader(), { idPlaceholder: 'made/1' })).toBe('made/1');
  });

  it('refuses with Item Not Found when the Unique Identifier is omitted and no placeholder is set', () => {
    let error: unknown;
    try {
      instanceNamed(reader(), {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KmipOperationError);
    expect((error as KmipOperationError).resultReason).toBe('ItemNotFound');
    expect((error as KmipOperationError).message).toMatch(/UniqueIdentifier is omitted and no earlier item of this batch set the ID Placeholder/);
  });
});
