/**
 * The JSON pre-scan (docs/protocol.md §3.3 step 3): on valid JSON its depth
 * and value counts are exact, whatever the strings hold and however the text
 * is spaced, so the limits mean what the spec says.
 */
import fc from 'fast-check';
import { scanJsonLimits } from '../../protocol/json-limits';

const WIDE = { maxDepth: 256, maxElements: Number.MAX_SAFE_INTEGER };

/** Depth and value count of a parsed JSON value, the slow obvious way (keys are not values). */
function measure(value: unknown): { depth: number; elements: number } {
  if (value === null || typeof value !== 'object') return { depth: 0, elements: 1 };
  const children = Array.isArray(value) ? value : Object.values(value as object);
  let depth = 0;
  let elements = 1;
  for (const child of children) {
    const m = measure(child);
    depth = Math.max(depth, m.depth);
    elements += m.elements;
  }
  return { depth: depth + 1, elements };
}

describe('scanJsonLimits', () => {
  it('property: counts depth and values exactly, compact or indented', () => {
    // Strings full of quotes, backslashes and brackets exercise the escape skipping.
    const tricky = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', 'a', ' ', '\n') });
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, tricky, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null),
        fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(tricky, tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(fc.property(tree, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      expect(scanJsonLimits(text, WIDE)).toEqual(measure(JSON.parse(text)));
    }), { numRuns: 500 });
  });

  it('counts the root object as depth 1 and as one value', () => {
    expect(scanJsonLimits('{}', WIDE)).toEqual({ depth: 1, elements: 1 });
    expect(scanJsonLimits('{"k":"v","n":[1,-2.5e3,true,null]}', WIDE)).toEqual({ depth: 2, elements: 7 });
  });
});
