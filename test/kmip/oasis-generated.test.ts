/**
 * The runner's knowledge of generated objects across a batch and a run:
 * within one batch, an item that omits its Unique Identifier means the
 * object the item before it answered (the server's ID Placeholder), so a
 * Locate + Get of a key the server generated compares the key bytes by
 * length, and of a registered object exactly; across cases, an object one
 * case generated stays generated for the next (TL-M-3 finds TL-M-2's key).
 */
import { CaseBindings } from '../../scripts/kmip/oasis/oasis-bindings';
import { learnFromResponse, randomItemsOf } from '../../scripts/kmip/oasis/oasis-generated';
import { enumItem, structureItem, textItem } from '../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../protocol/kmip/ttlv';

const item = (operation: string, uid?: string): TtlvNode =>
  structureItem('BatchItem', [enumItem('Operation', operation), structureItem('RequestPayload', uid === undefined ? [] : [textItem('UniqueIdentifier', uid)])]);
const answered = (operation: string, ...uids: string[]): TtlvNode =>
  structureItem('BatchItem', [enumItem('Operation', operation), enumItem('ResultStatus', 'Success'), structureItem('ResponsePayload', uids.map((uid) => textItem('UniqueIdentifier', uid)))]);
const failed = (operation: string): TtlvNode => structureItem('BatchItem', [enumItem('Operation', operation), enumItem('ResultStatus', 'OperationFailed')]);
const request = (...items: TtlvNode[]): TtlvNode => structureItem('RequestMessage', items);
const response = (...items: TtlvNode[]): TtlvNode => structureItem('ResponseMessage', items);

describe('generated objects in a batch and across a run', () => {
  test('Locate + Get: the Get means what the Locate found, random only if the server generated it', () => {
    const shared = new Set<string>();
    const earlier = new CaseBindings(undefined, undefined, shared);
    learnFromResponse(response(answered('Create', 'made@1')), earlier);
    // A later case, sharing the run's knowledge.
    const later = new CaseBindings(undefined, undefined, shared);
    const locateGet = request(item('Locate'), item('Get'));
    expect(randomItemsOf(locateGet, later, response(answered('Locate', 'made@1'), answered('Get', 'made@1')))).toEqual([false, true]);
    expect(randomItemsOf(locateGet, later, response(answered('Locate', 'registered@1'), answered('Get', 'registered@1')))).toEqual([false, false]);
    // A case of its own knows nothing generated: exact comparison.
    expect(randomItemsOf(locateGet, new CaseBindings(), response(answered('Locate', 'made@1'), answered('Get', 'made@1')))).toEqual([false, false]);
  });

  test('a failed item sets nothing, and a Create in the batch makes the placeholder generated', () => {
    const b = new CaseBindings();
    learnFromResponse(response(answered('Register', 'registered@1')), b);
    expect(randomItemsOf(request(item('Locate'), item('Get')), b, response(failed('Locate'), answered('Get', 'registered@1')))).toEqual([false, false]);
    expect(randomItemsOf(request(item('Create'), item('Get')), b, response(answered('Create', 'new@1'), answered('Get', 'new@1')))).toEqual([false, true]);
  });
});
