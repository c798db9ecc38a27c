/**
 * Fuzzing the message layer: every OASIS request and response message with
 * each field of its message, header, protocol version and batch items
 * dropped, doubled, or replaced by an item of each other type, and random
 * trees (fast-check). Every case decodes or throws KmipMessageError, never
 * anything else; a request that decodes re-encodes to a tree that decodes to
 * the same model.
 */
import fc from 'fast-check';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { decodeRequest, decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { encodeRequest, encodeResponse } from '../../../protocol/kmip/kmip-message-encoder';
import { KmipMessageError } from '../../../protocol/kmip/kmip-message-error';
import { ItemType, TtlvNode } from '../../../protocol/kmip/ttlv';
import { arbitraryMessage, arbitraryTree } from './ttlv-arbitrary';
import { distinctLayouts, loadTestCases } from './oasis-test-cases';

type Structure = Extract<TtlvNode, { type: 'Structure' }>;

const SAMPLE_OF_TYPE: Record<ItemType, (tag: number) => TtlvNode> = {
  Structure: (tag) => ({ tag, type: 'Structure', value: [] }),
  Integer: (tag) => ({ tag, type: 'Integer', value: -1 }),
  LongInteger: (tag) => ({ tag, type: 'LongInteger', value: 1n }),
  BigInteger: (tag) => ({ tag, type: 'BigInteger', value: -1n }),
  Enumeration: (tag) => ({ tag, type: 'Enumeration', value: 0xffffffff }),
  Boolean: (tag) => ({ tag, type: 'Boolean', value: true }),
  TextString: (tag) => ({ tag, type: 'TextString', value: '' }),
  ByteString: (tag) => ({ tag, type: 'ByteString', value: new Uint8Array(0) }),
  DateTime: (tag) => ({ tag, type: 'DateTime', value: 0n }),
  Interval: (tag) => ({ tag, type: 'Interval', value: 0 }),
  DateTimeExtended: (tag) => ({ tag, type: 'DateTimeExtended', value: 0n }),
};

/** Every variant of `node` with one child of one of the structures on the message's first three levels changed. */
function* mutations(node: TtlvNode, depth = 0): Generator<TtlvNode> {
  if (node.type !== 'Structure' || depth > 2) return;
  const children = node.value;
  const rebuilt = (value: readonly TtlvNode[]): TtlvNode => ({ ...(node as Structure), value });
  for (let i = 0; i < children.length; i++) {
    const child = children[i];
    yield rebuilt([...children.slice(0, i), ...children.slice(i + 1)]);
    yield rebuilt([...children.slice(0, i + 1), child, ...children.slice(i + 1)]);
    for (const type of Object.keys(SAMPLE_OF_TYPE) as ItemType[]) if (type !== child.type) yield rebuilt([...children.slice(0, i), SAMPLE_OF_TYPE[type](child.tag), ...children.slice(i + 1)]);
    for (const changed of mutations(child, depth + 1)) yield rebuilt([...children.slice(0, i), changed, ...children.slice(i + 1)]);
  }
}

/** Runs the decoder; anything but success or KmipMessageError fails the test with the case's name. */
function survives(decode: () => unknown, name: string): 'decoded' | 'refused' {
  try {
    decode();
    return 'decoded';
  } catch (error) {
    if (error instanceof KmipMessageError) return 'refused';
    throw new Error(`${name}: ${String(error)}`);
  }
}

describe('KMIP message layer fuzz', () => {
  const layouts = distinctLayouts(loadTestCases());
  const requestTag = tagNumber('RequestMessage');

  it('decodes or refuses every one-field mutation of every OASIS message layout', () => {
    const counts = { decoded: 0, refused: 0 };
    for (const { name, message } of layouts) {
      const isRequest = message.tag === requestTag;
      let n = 0;
      for (const mutated of mutations(message)) {
        const outcome = survives(() => {
          if (!isRequest) return decodeResponse(mutated);
          const request = decodeRequest(mutated);
          expect(decodeRequest(encodeRequest(request))).toEqual(request);
          return request;
        }, `${name} mutation ${n++}`);
        counts[outcome]++;
      }
    }
    // About 19,000 decode and 44,500 are refused: the mutations reach past the first check.
    expect(counts.decoded).toBeGreaterThan(15000);
    expect(counts.refused).toBeGreaterThan(40000);
  });

  it('decodes or refuses random trees, under a Request Message tag and any other', () => {
    const asRequest = arbitraryMessage().map((tree) => ({ ...tree, tag: requestTag! }));
    fc.assert(
      fc.property(fc.oneof(asRequest, arbitraryMessage(), arbitraryTree()), (tree) => {
        survives(() => decodeRequest(tree), 'random request');
        survives(() => decodeResponse(tree), 'random response');
      }),
      { numRuns: 5000, seed: 13 },
    );
  });

  it('a decoded response re-encodes to a tree that decodes to the same model', () => {
    for (const { message } of layouts) {
      if (message.tag === requestTag) continue;
      const response = decodeResponse(message);
      expect(decodeResponse(encodeResponse(response))).toEqual(response);
    }
  });
});
