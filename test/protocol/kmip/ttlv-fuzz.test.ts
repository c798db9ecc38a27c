/**
 * Fuzzing of the TTLV decoder (issue 13, "Bad input"): mutations of every
 * OASIS test case's TTLV, each message layout once (truncation at every
 * offset, with and without the top-level length patched to match; each
 * item's length ±1, ±8, 0, and 0xFFFFFFFF; its type swapped; its padding set
 * to 0xFF; its tag made invalid; the message nested to the depth limit and
 * one past it) and random bytes from fast-check. Every case must decode or throw KmipCodecError with
 * a known reason: never another exception (a RangeError from a huge
 * allocation, a stack overflow), never a hang. What decodes must re-encode
 * to the same bytes (or fewer, for an over-extended Big Integer): nothing is
 * made from a declared length that the bytes do not back. The number of cases is asserted (≥ 100,000).
 */
import fc from 'fast-check';
import { decodeTtlv } from '../../../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { KMIP_CODEC_REASONS, KmipCodecError, KmipCodecReason } from '../../../protocol/kmip/kmip-codec-error';
import { KMIP_MAX_DEPTH, paddedLength, TTLV_HEADER_BYTES } from '../../../protocol/kmip/ttlv';
import { distinctLayouts, loadTestCases } from './oasis-test-cases';

const KNOWN_REASONS: ReadonlySet<string> = new Set(KMIP_CODEC_REASONS);
/** Type bytes tried in place of each item's own: every defined type, and one on each side. */
const TYPE_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c];
/** Length mutations: ±1, ±8, zero, and the largest a header can claim. */
const LENGTH_MUTATIONS = [1, -1, 8, -8, 'zero', 'max'] as const;
/** Length mutations, one per type swap, padding 0xFF, invalid tag. */
const MUTATION_KINDS = LENGTH_MUTATIONS.length + TYPE_BYTES.length - 1 + 2;
/** Mutations tried per item (rotating through the kinds). */
const MUTATIONS_PER_ITEM = 4;

interface Tally {
  cases: number;
  decoded: number;
  readonly reasons: Map<KmipCodecReason, number>;
  readonly failures: string[];
}

function newTally(): Tally {
  return { cases: 0, decoded: 0, reasons: new Map(), failures: [] };
}

/** Runs one case; records anything but a decode or a KmipCodecError with a known reason. */
function fuzzCase(tally: Tally, bytes: Buffer, label: () => string, expected?: KmipCodecReason): void {
  tally.cases++;
  try {
    const node = decodeTtlv(bytes);
    tally.decoded++;
    const again = encodeTtlv(node);
    // The decoder accepts only canonical bytes, but for Big Integers
    // sign-extended further than needed (which re-encode shorter).
    if (again.length > bytes.length || (again.length === bytes.length && !again.equals(bytes))) {
      tally.failures.push(`${label()}: re-encoded to ${again.length} other bytes from ${bytes.length}`);
    }
    if (expected !== undefined) tally.failures.push(`${label()}: decoded, expected ${expected}`);
  } catch (error) {
    if (!(error instanceof KmipCodecError) || !KNOWN_REASONS.has(error.reason)) {
      tally.failures.push(`${label()}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      return;
    }
    tally.reasons.set(error.reason, (tally.reasons.get(error.reason) ?? 0) + 1);
    if (expected !== undefined && error.reason !== expected) tally.failures.push(`${label()}: ${error.reason}, expected ${expected}`);
  }
}

interface ItemHeader {
  readonly offset: number;
  readonly type: number;
  readonly length: number;
}

/** Offsets, types and lengths of every item of a valid message, in order. */
function itemHeaders(bytes: Buffer): ItemHeader[] {
  const headers: ItemHeader[] = [];
  const walk = (offset: number, end: number): void => {
    while (offset < end) {
      const type = bytes[offset + 3];
      const length = bytes.readUInt32BE(offset + 4);
      headers.push({ offset, type, length });
      if (type === 0x01) walk(offset + TTLV_HEADER_BYTES, offset + TTLV_HEADER_BYTES + length);
      offset += TTLV_HEADER_BYTES + paddedLength(length);
    }
  };
  walk(0, bytes.length);
  return headers;
}

function withLength(bytes: Buffer, offset: number, length: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(length >>> 0, offset + 4);
  return copy;
}

/** Applies mutation `kind` (0 … MUTATION_KINDS - 1) to the item `header`, the `index`-th of the message. */
function mutate(tally: Tally, name: string, bytes: Buffer, header: ItemHeader, index: number, kind: number): void {
  const { offset, type, length } = header;
  if (kind < LENGTH_MUTATIONS.length) {
    const change = LENGTH_MUTATIONS[kind];
    const mutated = change === 'zero' ? 0 : change === 'max' ? 0xffffffff : length + change;
    if (mutated === length || mutated < 0) return;
    fuzzCase(tally, withLength(bytes, offset, mutated), () => `${name} item at ${offset} length ${mutated}`);
    return;
  }
  kind -= LENGTH_MUTATIONS.length;
  const others = TYPE_BYTES.filter((t) => t !== type);
  if (kind < others.length) {
    const swapped = Buffer.from(bytes);
    swapped[offset + 3] = others[kind];
    fuzzCase(tally, swapped, () => `${name} item at ${offset} (#${index}) type 0x${others[kind].toString(16)}`);
    return;
  }
  if (kind === others.length) {
    const valueEnd = offset + TTLV_HEADER_BYTES + (type === 0x01 ? 0 : length);
    const paddedEnd = offset + TTLV_HEADER_BYTES + (type === 0x01 ? 0 : paddedLength(length));
    if (paddedEnd === valueEnd) return;
    const padded = Buffer.from(bytes);
    padded.fill(0xff, valueEnd, paddedEnd);
    fuzzCase(tally, padded, () => `${name} item at ${offset} padding 0xFF`, 'BAD_PADDING');
    return;
  }
  const badTag = Buffer.from(bytes);
  badTag[offset] = 0x43;
  fuzzCase(tally, badTag, () => `${name} item at ${offset} tag 0x43xxxx`, 'BAD_TAG');
}

function wrap(message: Buffer, levels: number): Buffer {
  let bytes = message;
  for (let i = 0; i < levels; i++) {
    const header = Buffer.from([0x42, 0x00, 0x7b, 0x01, 0, 0, 0, 0]);
    header.writeUInt32BE(bytes.length, 4);
    bytes = Buffer.concat([header, bytes]);
  }
  return bytes;
}

function depthOf(bytes: Buffer): number {
  let deepest = 0;
  const walk = (offset: number, end: number, depth: number): void => {
    deepest = Math.max(deepest, depth);
    while (offset < end) {
      const length = bytes.readUInt32BE(offset + 4);
      if (bytes[offset + 3] === 0x01) walk(offset + TTLV_HEADER_BYTES, offset + TTLV_HEADER_BYTES + length, depth + 1);
      else deepest = Math.max(deepest, depth + 1);
      offset += TTLV_HEADER_BYTES + paddedLength(length);
    }
  };
  walk(TTLV_HEADER_BYTES, bytes.length, 1);
  return deepest;
}

describe('TTLV decoder fuzzing', () => {
  const stackTraceLimit = Error.stackTraceLimit;
  let messages: Array<{ name: string; bytes: Buffer }>;
  const grand = { cases: 0 };

  beforeAll(() => {
    // Capturing a stack for each of several hundred thousand expected errors
    // costs more than the decoding; the cases check the error's class and
    // reason, never its stack.
    Error.stackTraceLimit = 0;
    messages = distinctLayouts(loadTestCases()).map(({ name, message }) => ({ name, bytes: encodeTtlv(message) }));
  });
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit;
  });

  function finish(tally: Tally): void {
    grand.cases += tally.cases;
    expect(tally.failures.slice(0, 20)).toEqual([]);
  }

  it('survives truncation of every OASIS message at every offset, with the declared length left as is or patched to match', () => {
    const tally = newTally();
    for (const { name, bytes } of messages) {
      for (let cut = 0; cut < bytes.length; cut++) {
        fuzzCase(tally, bytes.subarray(0, cut), () => `${name} cut at ${cut}`, 'TRUNCATED');
        if (cut % 8 === 0 && cut >= TTLV_HEADER_BYTES) fuzzCase(tally, withLength(bytes.subarray(0, cut), 0, cut - TTLV_HEADER_BYTES), () => `${name} cut at ${cut}, length patched`);
      }
    }
    finish(tally);
    expect(tally.cases).toBeGreaterThan(150_000);
  });

  it('survives each item\'s length ±1, ±8, 0 and 0xFFFFFFFF, its type swapped, its padding set to 0xFF and its tag made invalid', () => {
    const tally = newTally();
    for (const { name, bytes } of messages) {
      itemHeaders(bytes).forEach((header, index) => {
        // Each item gets MUTATIONS_PER_ITEM of the mutations, rotating from
        // item to item, so every message sees all of them.
        for (let j = 0; j < MUTATIONS_PER_ITEM; j++) mutate(tally, name, bytes, header, index, (index * MUTATIONS_PER_ITEM + j) % MUTATION_KINDS);
      });
    }
    finish(tally);
    expect(tally.cases).toBeGreaterThan(20_000);
  });

  it('decodes every OASIS message nested to the depth limit and refuses it one level deeper', () => {
    const tally = newTally();
    for (const { name, bytes } of messages) {
      const room = KMIP_MAX_DEPTH - depthOf(bytes);
      const decodedBefore = tally.decoded;
      fuzzCase(tally, wrap(bytes, room), () => `${name} at depth ${KMIP_MAX_DEPTH}`);
      if (tally.decoded !== decodedBefore + 1) tally.failures.push(`${name} at depth ${KMIP_MAX_DEPTH} did not decode`);
      fuzzCase(tally, wrap(bytes, room + 1), () => `${name} at depth ${KMIP_MAX_DEPTH + 1}`, 'TOO_DEEP');
    }
    finish(tally);
  });

  it('survives random bytes, and random bodies behind a well-formed message header', () => {
    const tally = newTally();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        fuzzCase(tally, Buffer.from(bytes), () => `random ${Buffer.from(bytes).toString('hex')}`);
      }),
      { numRuns: 20_000 },
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 25 }).map((words) => Buffer.from(words.flatMap((w) => [0x42, 0x00, w, w % 12, 0, 0, 0, w % 17, w, 0, 0, 0, 0, 0, 0, w & 1]))), (body) => {
        const bytes = Buffer.concat([Buffer.from([0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0]), body]);
        bytes.writeUInt32BE(body.length, 4);
        fuzzCase(tally, bytes, () => `structured ${bytes.toString('hex')}`);
      }),
      { numRuns: 10_000 },
    );
    finish(tally);
  });

  it('ran at least 100,000 cases in all', () => {
    expect(grand.cases).toBeGreaterThanOrEqual(100_000);
    // eslint-disable-next-line no-console
    console.log(`TTLV fuzz: ${grand.cases} cases over ${messages.length} OASIS message layouts`);
  });
});
