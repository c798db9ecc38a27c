/**
 * fast-check generators of TTLV trees for the KMIP codec tests: every item
 * type over its whole range, tags both known to the dictionary and unknown
 * (0x42xxxx and 0x54xxxx), nesting up to a few levels.
 */
import fc from 'fast-check';
import { KMIP_TAGS } from '../../../protocol/kmip/dictionary';
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, TtlvNode, UINT32_MAX } from '../../../protocol/kmip/ttlv';

const knownTags = [...KMIP_TAGS.byValue.keys()];

export const arbitraryTag: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...knownTags),
  fc.integer({ min: 0x420000, max: 0x42ffff }),
  fc.integer({ min: 0x540000, max: 0x54ffff }),
);

/** Text that XML 1.0 can carry (no C0 controls but tab, LF, CR; no U+FFFE/U+FFFF); the TTLV tests use any well-formed text. */
export const xmlSafeText = fc.string({ unit: 'binary', maxLength: 24 }).filter((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(s));

export function arbitraryPrimitive(text: fc.Arbitrary<string>): fc.Arbitrary<TtlvNode> {
  const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
  return fc.oneof(
    fc.record({ tag: arbitraryTag, type: fc.constant('Integer' as const), value: fc.integer({ min: INT32_MIN, max: INT32_MAX }) }),
    fc.record({ tag: arbitraryTag, type: fc.constant('LongInteger' as const), value: int64 }),
    fc.record({ tag: arbitraryTag, type: fc.constant('BigInteger' as const), value: fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }) }),
    fc.record({ tag: arbitraryTag, type: fc.constant('Enumeration' as const), value: fc.integer({ min: 0, max: UINT32_MAX }) }),
    fc.record({ tag: arbitraryTag, type: fc.constant('Boolean' as const), value: fc.boolean() }),
    fc.record({ tag: arbitraryTag, type: fc.constant('TextString' as const), value: text }),
    fc.record({ tag: arbitraryTag, type: fc.constant('ByteString' as const), value: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ tag: arbitraryTag, type: fc.constant('DateTime' as const), value: int64 }),
    fc.record({ tag: arbitraryTag, type: fc.constant('Interval' as const), value: fc.integer({ min: 0, max: UINT32_MAX }) }),
    fc.record({ tag: arbitraryTag, type: fc.constant('DateTimeExtended' as const), value: int64 }),
  );
}

/** A tree of items: structures of up to 5 children, a few levels deep. */
export function arbitraryTree(text: fc.Arbitrary<string> = fc.string({ unit: 'binary', maxLength: 24 })): fc.Arbitrary<TtlvNode> {
  const { node } = fc.letrec<{ node: TtlvNode; structure: TtlvNode }>((tie) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, arbitraryPrimitive(text), tie('structure')),
    structure: fc.record({ tag: arbitraryTag, type: fc.constant('Structure' as const), value: fc.array(tie('node'), { maxLength: 5 }) }),
  }));
  return node;
}

/** A structure at the top, as every KMIP message is. */
export function arbitraryMessage(text?: fc.Arbitrary<string>): fc.Arbitrary<TtlvNode> {
  return fc.record({ tag: arbitraryTag, type: fc.constant('Structure' as const), value: fc.array(arbitraryTree(text), { maxLength: 6 }) });
}
