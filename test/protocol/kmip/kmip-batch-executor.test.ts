/**
 * The batch executor with a fake runItem: Batch Error Continuation Option
 * (Continue, Stop, Undo), Unique Batch Item IDs echoed, Maximum Response
 * Size, and the answers of the OASIS test cases that exercise them (BL-M-2-21
 * Undo, MSGENC-XML-M-1-21 Maximum Response Size) reproduced tree for tree.
 */
import { basename } from 'node:path';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { executeBatch, ItemOutcome, RESPONSE_TOO_LARGE_MESSAGE } from '../../../protocol/kmip/kmip-batch-executor';
import { BatchErrorContinuationOption, RequestBatchItem, RequestMessage } from '../../../protocol/kmip/kmip-message';
import { decodeRequest, decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { encodeResponse } from '../../../protocol/kmip/kmip-message-encoder';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { FIXED_NOW, loadTestCases, TestCaseFile } from './oasis-test-cases';

const tag = (name: string): number => tagNumber(name)!;
const payload = (name: string, text: string): TtlvNode => ({ tag: tag(name), type: 'Structure', value: [{ tag: tag('UniqueIdentifier'), type: 'TextString', value: text }] });
const ok = (text = 'uid'): ItemOutcome => ({ status: 'Success', payload: payload('ResponsePayload', text) });
const failed: ItemOutcome = { status: 'OperationFailed', reason: 'ItemNotFound', message: 'No such key' };

function batch(option: BatchErrorContinuationOption | undefined, operations: string[], maximumResponseSize?: number): RequestMessage {
  return {
    header: {
      protocolVersion: { major: 2, minor: 0 },
      ...(maximumResponseSize === undefined ? {} : { maximumResponseSize }),
      ...(option === undefined ? {} : { batchErrorContinuationOption: option }),
      batchCount: operations.length,
    },
    batchItems: operations.map((operation, i) => ({ operation, uniqueBatchItemId: new Uint8Array([i + 1]), requestPayload: payload('RequestPayload', `k${i}`) })),
  };
}

/** A runItem answering each item, in order, with the next of `outcomes`; it records what ran and what was undone. */
function fakeRunItem(outcomes: ItemOutcome[]) {
  const ran: number[] = [];
  const undone: number[] = [];
  const runItem = async (item: RequestBatchItem): Promise<ItemOutcome> => {
    const index = item.uniqueBatchItemId![0];
    ran.push(index);
    const outcome = outcomes[ran.length - 1];
    return outcome.status === 'Success' ? { ...outcome, undo: async () => { undone.push(index); return {}; } } : outcome;
  };
  return { runItem, ran, undone };
}

const statuses = (response: { batchItems: readonly { resultStatus: string }[] }) => response.batchItems.map((item) => item.resultStatus);
const ids = (response: { batchItems: readonly { uniqueBatchItemId?: Uint8Array }[] }) => response.batchItems.map((item) => item.uniqueBatchItemId?.[0]);
const undoable = { timeStamp: FIXED_NOW, canUndo: () => true };

describe('KMIP batch executor', () => {
  let cases: TestCaseFile[];
  beforeAll(() => {
    cases = loadTestCases().filter((file) => ['BL-M-2-21.xml', 'MSGENC-XML-M-1-21.xml'].includes(basename(file.path)));
  });

  it('answers in the request\'s version with the given time stamp, echoing Operation and Unique Batch Item ID', async () => {
    const { runItem } = fakeRunItem([ok('a')]);
    const response = await executeBatch(batch(undefined, ['Get']), runItem, { timeStamp: 42n, serverCorrelationValue: 'S-1' });
    expect(response).toEqual({
      header: { protocolVersion: { major: 2, minor: 0 }, timeStamp: 42n, serverCorrelationValue: 'S-1', batchCount: 1 },
      batchItems: [{ operation: 'Get', uniqueBatchItemId: new Uint8Array([1]), resultStatus: 'Success', responsePayload: payload('ResponsePayload', 'a') }],
    });
    expect(decodeResponse(encodeResponse(response))).toEqual(response);
  });

  it('Continue: runs every item and answers each, the failed one with its reason', async () => {
    const { runItem, ran } = fakeRunItem([ok(), failed, ok()]);
    const response = await executeBatch(batch('Continue', ['Get', 'Get', 'Get']), runItem, { timeStamp: FIXED_NOW });
    expect(ran).toEqual([1, 2, 3]);
    expect(statuses(response)).toEqual(['Success', 'OperationFailed', 'Success']);
    expect(ids(response)).toEqual([1, 2, 3]);
    expect(response.header.batchCount).toBe(3);
    expect(response.batchItems[1]).toMatchObject({ resultReason: 'ItemNotFound', resultMessage: 'No such key' });
  });

  it.each([['Stop' as const], [undefined]])('Stop (%s): answers up to the failed item and leaves the rest unprocessed and unanswered', async (option) => {
    const { runItem, ran } = fakeRunItem([ok(), failed, ok()]);
    const response = await executeBatch(batch(option, ['Get', 'Get', 'Get']), runItem, { timeStamp: FIXED_NOW });
    expect(ran).toEqual([1, 2]);
    expect(statuses(response)).toEqual(['Success', 'OperationFailed']);
    expect(response.header.batchCount).toBe(2);
  });

  it('Stop: a pending item is not a failure', async () => {
    const { runItem, ran } = fakeRunItem([{ status: 'OperationPending', asynchronousCorrelationValue: new Uint8Array([9]) }, ok()]);
    const response = await executeBatch(batch('Stop', ['Destroy', 'Get']), runItem, { timeStamp: FIXED_NOW });
    expect(ran).toEqual([1, 2]);
    expect(statuses(response)).toEqual(['OperationPending', 'Success']);
    expect(response.batchItems[0].asynchronousCorrelationValue).toEqual(new Uint8Array([9]));
  });

  it('Undo: undoes the items before the failure, newest first, and answers them Operation Undone with their payload', async () => {
    const { runItem, ran, undone } = fakeRunItem([ok('a'), ok('b'), failed, ok()]);
    const response = await executeBatch(batch('Undo', ['Activate', 'Activate', 'Activate', 'Activate']), runItem, undoable);
    expect(ran).toEqual([1, 2, 3]);
    expect(undone).toEqual([2, 1]);
    expect(statuses(response)).toEqual(['OperationUndone', 'OperationUndone', 'OperationFailed']);
    expect(response.batchItems[1].responsePayload).toEqual(payload('ResponsePayload', 'b'));
  });

  it('Undo: an undo the server refuses leaves its item Success (it stands), the others are still undone, and the failed item names what stands', async () => {
    const refusing: ItemOutcome = { status: 'Success', payload: payload('ResponsePayload', 'b'), undo: async () => ({ refused: 'WRONG_STATE: changed since' }) };
    const undone: string[] = [];
    const outcomes: ItemOutcome[] = [
      { status: 'Success', payload: payload('ResponsePayload', 'a'), undo: async () => (undone.push('a'), {}) },
      refusing,
      { status: 'OperationFailed', reason: 'IncompatibleCryptographicUsageMask', message: 'Check Failed' },
    ];
    let next = 0;
    const response = await executeBatch(batch('Undo', ['Activate', 'Activate', 'Check']), async () => outcomes[next++], undoable);
    expect(undone).toEqual(['a']);
    expect(statuses(response)).toEqual(['OperationUndone', 'Success', 'OperationFailed']);
    expect(response.batchItems[2].resultMessage).toBe('Check Failed; the batch could not be undone in full: item 2 (Activate) stands: WRONG_STATE: changed since');
  });

  it('Undo: an undo that rejects (a fault, not a refusal) is the caller\'s to handle, as a throwing runItem is', async () => {
    const outcomes: ItemOutcome[] = [
      { status: 'Success', payload: payload('ResponsePayload', 'a'), undo: async () => Promise.reject(new Error('bug')) },
      { status: 'OperationFailed', reason: 'InvalidField' },
    ];
    let next = 0;
    await expect(executeBatch(batch('Undo', ['Activate', 'Check']), async () => outcomes[next++], undoable)).rejects.toThrow('bug');
  });

  it('Undo: undoes nothing when nothing fails', async () => {
    const { runItem, undone } = fakeRunItem([ok(), ok()]);
    const response = await executeBatch(batch('Undo', ['Activate', 'Activate']), runItem, undoable);
    expect(undone).toEqual([]);
    expect(statuses(response)).toEqual(['Success', 'Success']);
  });

  it('Undo: a batch holding an operation that cannot be undone runs nothing and answers Feature Not Supported for every item', async () => {
    const { runItem, ran } = fakeRunItem([ok(), ok()]);
    const response = await executeBatch(batch('Undo', ['Activate', 'Destroy']), runItem, { timeStamp: FIXED_NOW, canUndo: (operation) => operation === 'Activate' });
    expect(ran).toEqual([]);
    expect(statuses(response)).toEqual(['OperationFailed', 'OperationFailed']);
    expect(ids(response)).toEqual([1, 2]);
    expect(response.batchItems[0]).toMatchObject({ resultReason: 'FeatureNotSupported', operation: 'Activate' });
    expect(response.batchItems[0].resultMessage).toContain('Destroy');
  });

  it('Undo on a single item needs no undo and runs', async () => {
    const { runItem, ran } = fakeRunItem([ok()]);
    const response = await executeBatch(batch('Undo', ['Destroy']), runItem, { timeStamp: FIXED_NOW });
    expect(ran).toEqual([1]);
    expect(statuses(response)).toEqual(['Success']);
  });

  it('reproduces the OASIS Undo test case BL-M-2-21 tree for tree', async () => {
    const file = cases.find((f) => basename(f.path) === 'BL-M-2-21.xml')!;
    const at = file.messages.findIndex((message, i) => i % 2 === 0 && decodeRequest(message).header.batchErrorContinuationOption === 'Undo');
    const request = decodeRequest(file.messages[at]);
    const checkFailed: ItemOutcome = { status: 'OperationFailed', reason: 'IncompatibleCryptographicUsageMask', message: 'Check Failed' };
    const { runItem, undone } = fakeRunItem([ok('$UNIQUE_IDENTIFIER_0'), ok('$UNIQUE_IDENTIFIER_0'), checkFailed]);
    const response = await executeBatch(request, runItem, { ...undoable, serverCorrelationValue: '55EBE18E-02018A04-6' });
    expect(undone).toEqual([0x3a, 0xef]); // first bytes of the second and first Unique Batch Item IDs
    expect(encodeTtlv(encodeResponse(response)).equals(encodeTtlv(file.messages[at + 1]))).toBe(true);
  });

  it('reproduces the OASIS Maximum Response Size test case MSGENC-XML-M-1-21: too large at 256 bytes, answered at 2048', async () => {
    const file = cases.find((f) => basename(f.path) === 'MSGENC-XML-M-1-21.xml')!;
    const expected = decodeResponse(file.messages[3]);
    const queryAnswer: ItemOutcome = { status: 'Success', payload: expected.batchItems[0].responsePayload! };
    const small = await executeBatch(decodeRequest(file.messages[0]), async () => queryAnswer, { timeStamp: FIXED_NOW });
    const expectedSmall = decodeResponse(file.messages[1]);
    expect(small).toEqual({ ...expectedSmall, batchItems: [{ ...expectedSmall.batchItems[0], resultMessage: RESPONSE_TOO_LARGE_MESSAGE }] });
    const large = await executeBatch(decodeRequest(file.messages[2]), async () => queryAnswer, { timeStamp: FIXED_NOW });
    expect(encodeTtlv(encodeResponse(large)).equals(encodeTtlv(file.messages[3]))).toBe(true);
    expect(encodeTtlv(encodeResponse(large)).length).toBeLessThanOrEqual(2048);
  });

  describe('Maximum Response Size in a batch', () => {
    const big = (): ItemOutcome => ({ status: 'Success', payload: payload('ResponsePayload', 'x'.repeat(400)) });
    const sizeOf = async (outcomes: ItemOutcome[]) => encodeTtlv(encodeResponse(await executeBatch(batch('Continue', outcomes.map(() => 'Get')), fakeRunItem(outcomes).runItem, { timeStamp: FIXED_NOW }))).length;

    it('answers the item that would cross the limit Response Too Large, and the response stays within it', async () => {
      const limit = (await sizeOf([ok(), ok()])) + 200;
      const { runItem, ran } = fakeRunItem([ok(), big(), ok()]);
      const response = await executeBatch(batch('Continue', ['Get', 'Get', 'Get'], limit), runItem, { timeStamp: FIXED_NOW });
      expect(ran).toEqual([1, 2, 3]);
      expect(statuses(response)).toEqual(['Success', 'OperationFailed', 'Success']);
      expect(response.batchItems[1]).toMatchObject({ operation: 'Get', uniqueBatchItemId: new Uint8Array([2]), resultReason: 'ResponseTooLarge' });
      expect(response.batchItems[1].responsePayload).toBeUndefined();
      expect(encodeTtlv(encodeResponse(response)).length).toBeLessThanOrEqual(limit);
    });

    it('counts Response Too Large as a failure: Stop stops there', async () => {
      const limit = (await sizeOf([ok(), ok()])) + 200;
      const { runItem, ran } = fakeRunItem([ok(), big(), ok()]);
      const response = await executeBatch(batch('Stop', ['Get', 'Get', 'Get'], limit), runItem, { timeStamp: FIXED_NOW });
      expect(ran).toEqual([1, 2]);
      expect(statuses(response)).toEqual(['Success', 'OperationFailed']);
    });

    it('with Undo, also reverses the item that took effect but whose answer was too large', async () => {
      const limit = (await sizeOf([ok(), ok()])) + 200;
      const { runItem, undone } = fakeRunItem([ok(), big(), ok()]);
      const response = await executeBatch(batch('Undo', ['Activate', 'Activate', 'Activate'], limit), runItem, undoable);
      expect(undone).toEqual([2, 1]);
      expect(statuses(response)).toEqual(['OperationUndone', 'OperationFailed']);
    });
  });

  it('lets an error thrown by runItem through: a bug is not a KMIP result', async () => {
    const runItem = async (): Promise<ItemOutcome> => {
      throw new Error('bug');
    };
    await expect(executeBatch(batch('Continue', ['Get']), runItem, { timeStamp: FIXED_NOW })).rejects.toThrow('bug');
  });
});

describe('key material in an answer that is not sent', () => {
  test('a payload dropped for the Maximum Response Size has its Byte Strings zeroed (the transport wipes only what it sends)', async () => {
    const material = new Uint8Array(32).fill(0x41);
    const got: ItemOutcome = { status: 'Success', payload: { tag: tag('ResponsePayload'), type: 'Structure', value: [{ tag: tag('KeyMaterial'), type: 'ByteString', value: material }] } };
    const response = await executeBatch(batch(undefined, ['Get'], 120), async () => got, { timeStamp: FIXED_NOW });
    expect(response.batchItems[0]).toMatchObject({ resultStatus: 'OperationFailed', resultReason: 'ResponseTooLarge' });
    expect(material.every((byte) => byte === 0)).toBe(true);
  });
});
