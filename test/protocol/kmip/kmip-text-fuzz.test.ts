/**
 * Fuzzing of the KMIP XML and JSON encodings: random trees round-trip through
 * both; every OASIS message layout, written as XML and as JSON, is truncated
 * and has characters replaced at regular offsets; random text is parsed.
 * Every case must parse or throw KmipCodecError with a known reason, never
 * another exception.
 */
import fc from 'fast-check';
import { formatKmipJson, parseKmipJson } from '../../../protocol/kmip/kmip-json';
import { formatKmipXml, parseKmipXml } from '../../../protocol/kmip/kmip-xml';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { KMIP_CODEC_REASONS, KmipCodecError } from '../../../protocol/kmip/kmip-codec-error';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { arbitraryMessage, xmlSafeText } from './ttlv-arbitrary';
import { distinctLayouts, loadTestCases } from './oasis-test-cases';

const KNOWN_REASONS: ReadonlySet<string> = new Set(KMIP_CODEC_REASONS);
/** Offsets between mutations of one text. */
const STRIDE = 41;
/** Characters written over the text, in turn: each breaks or bends the syntax differently. */
const REPLACEMENTS = ['<', '>', '&', '"', "'", '=', '/', ' ', 'x', '0', '\u0001', '{', '}', '[', ']', ',', ':', '\\'];

interface Tally {
  cases: number;
  readonly failures: string[];
}

function textCase(tally: Tally, parse: (text: string) => TtlvNode, text: string, label: () => string): void {
  tally.cases++;
  try {
    parse(text);
  } catch (error) {
    if (!(error instanceof KmipCodecError) || !KNOWN_REASONS.has(error.reason)) {
      tally.failures.push(`${label()}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }
}

describe('KMIP XML and JSON fuzzing', () => {
  const stackTraceLimit = Error.stackTraceLimit;
  let layouts: TtlvNode[];
  const grand = { cases: 0 };

  beforeAll(() => {
    // The cases check each error's class and reason, never its stack.
    Error.stackTraceLimit = 0;
    layouts = distinctLayouts(loadTestCases()).map(({ message }) => message);
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });

  it('round-trips random trees through XML and JSON', () => {
    fc.assert(
      fc.property(arbitraryMessage(xmlSafeText), (node) => {
        const bytes = encodeTtlv(node);
        expect(encodeTtlv(parseKmipXml(formatKmipXml(node))).equals(bytes)).toBe(true);
        expect(encodeTtlv(parseKmipJson(formatKmipJson(node))).equals(bytes)).toBe(true);
      }),
      { numRuns: 1500 },
    );
    grand.cases += 1500;
  });

  it.each([
    ['XML', formatKmipXml, (text: string) => parseKmipXml(text, { now: 0n })],
    ['JSON', formatKmipJson, (text: string) => parseKmipJson(text, { now: 0n })],
  ] as const)('survives truncation and replaced characters in every OASIS message written as %s', (_encoding, format, parse) => {
    const tally: Tally = { cases: 0, failures: [] };
    layouts.forEach((message, m) => {
      const text = format(message);
      for (let at = m % STRIDE; at < text.length; at += STRIDE) {
        textCase(tally, parse, text.slice(0, at), () => `message ${m} cut at ${at}`);
        const replacement = REPLACEMENTS[(at + m) % REPLACEMENTS.length];
        textCase(tally, parse, text.slice(0, at) + replacement + text.slice(at + 1), () => `message ${m} ${JSON.stringify(replacement)} at ${at}`);
      }
    });
    grand.cases += tally.cases;
    expect(tally.failures.slice(0, 20)).toEqual([]);
    expect(tally.cases).toBeGreaterThan(10_000);
  });

  it('survives random text', () => {
    const tally: Tally = { cases: 0, failures: [] };
    const xmlish = fc.array(fc.constantFrom('<', '>', '/', '"', '=', ' ', '&', ';', '#', 'x', 'TTLV', 'tag', 'type', 'value', 'Integer', 'BatchCount', 'RequestMessage', '0x42000d', '1', '<!--', '-->'), { maxLength: 40 }).map((parts) => parts.join(''));
    const jsonish = fc.json({ maxDepth: 4 });
    fc.assert(fc.property(fc.oneof(xmlish, fc.string({ maxLength: 60 })), (text) => textCase(tally, (t) => parseKmipXml(t), text, () => JSON.stringify(text))), { numRuns: 5000 });
    fc.assert(fc.property(fc.oneof(jsonish, fc.string({ maxLength: 60 })), (text) => textCase(tally, (t) => parseKmipJson(t), text, () => JSON.stringify(text))), { numRuns: 5000 });
    grand.cases += tally.cases;
    expect(tally.failures.slice(0, 20)).toEqual([]);
  });

  it('ran the cases it counts', () => {
    expect(grand.cases).toBeGreaterThan(30_000);
    // eslint-disable-next-line no-console
    console.log(`KMIP XML/JSON fuzz: ${grand.cases} cases over ${layouts.length} OASIS message layouts`);
  });
});
