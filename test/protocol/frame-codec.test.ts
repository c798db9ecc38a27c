/**
 * The frame codec (docs/protocol.md §2): split at every offset, many frames
 * per chunk, the length checked before any payload byte is buffered.
 */
import fc from 'fast-check';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, HARD_MAX_FRAME_BYTES } from '../../protocol/frame-codec';
import { codeOf } from '../support/error-code';

const payloads = [Buffer.from('{"id":1,"op":"Query"}'), Buffer.from('x'), Buffer.from('{"id":"r-2","op":"Get","args":{"name":"hr/payroll"}}')];
const stream = Buffer.concat(payloads.map(encodeFrame));

function header(length: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h.writeUInt32BE(length, 0);
  return h;
}

function feed(decoder: FrameDecoder, chunks: Buffer[]): Buffer[] {
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

describe('encodeFrame', () => {
  it('writes a 4-byte big-endian length then the payload', () => {
    expect(encodeFrame(Buffer.from('ab'))).toEqual(Buffer.from([0, 0, 0, 2, 0x61, 0x62]));
  });
});

describe('FrameDecoder', () => {
  it('decodes a stream split into two at every byte offset', () => {
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const got = feed(new FrameDecoder(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(got).toEqual(payloads);
    }
  });

  it('decodes a stream split into three at every pair of offsets', () => {
    const single = encodeFrame(payloads[2]);
    for (let a = 0; a <= single.length; a += 1) {
      for (let b = a; b <= single.length; b += 1) {
        const got = feed(new FrameDecoder(), [single.subarray(0, a), single.subarray(a, b), single.subarray(b)]);
        expect(got).toEqual([payloads[2]]);
      }
    }
  });

  it('decodes a stream fed byte by byte', () => {
    const decoder = new FrameDecoder();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 1) got.push(...decoder.push(stream.subarray(i, i + 1)));
    expect(got).toEqual(payloads);
    expect(decoder.pendingBytes).toBe(0);
    expect(decoder.midFrame).toBe(false);
  });

  it('returns many frames from one chunk, in order', () => {
    const many = Array.from({ length: 100 }, (_, i) => Buffer.from(`{"id":${i}}`));
    expect(new FrameDecoder().push(Buffer.concat(many.map(encodeFrame)))).toEqual(many);
  });

  it('waits for a header split across chunks', () => {
    const frame = encodeFrame(Buffer.from('{}'));
    const decoder = new FrameDecoder();
    expect(decoder.push(frame.subarray(0, 1))).toEqual([]);
    expect(decoder.push(frame.subarray(1, 3))).toEqual([]);
    expect(decoder.midFrame).toBe(true);
    expect(decoder.push(frame.subarray(3))).toEqual([Buffer.from('{}')]);
  });

  it('ignores empty chunks', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.alloc(0))).toEqual([]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('throws FRAME_TOO_LARGE as soon as the 4 header bytes arrive, before any payload', () => {
    const decoder = new FrameDecoder(1024);
    expect(decoder.push(header(1025).subarray(0, 3))).toEqual([]);
    expect(codeOf(() => decoder.push(header(1025).subarray(3)))).toBe('FRAME_TOO_LARGE');
    expect(decoder.pendingBytes).toBe(0);
  });

  it('throws FRAME_TOO_LARGE for a 4 GiB claim without allocating it', () => {
    const decoder = new FrameDecoder();
    expect(codeOf(() => decoder.push(header(0xffffffff)))).toBe('FRAME_TOO_LARGE');
  });

  it('accepts a frame of exactly the limit', () => {
    const payload = Buffer.alloc(1024, 0x61);
    expect(new FrameDecoder(1024).push(encodeFrame(payload))).toEqual([payload]);
  });

  it('stays poisoned after FRAME_TOO_LARGE: every later push throws the same code', () => {
    const decoder = new FrameDecoder(16);
    expect(codeOf(() => decoder.push(header(17)))).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => decoder.push(encodeFrame(Buffer.from('{}'))))).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => decoder.push(Buffer.alloc(0)))).toBe('FRAME_TOO_LARGE');
  });

  it('hands on a zero-length frame as an empty payload and stays in step', () => {
    const decoder = new FrameDecoder();
    const frames = decoder.push(Buffer.concat([header(0), encodeFrame(Buffer.from('{}'))]));
    expect(frames.map((f) => f.toString())).toEqual(['', '{}']);
  });

  it('keeps pendingBytes bounded by header + limit whatever the chunking', () => {
    const limit = 64;
    const decoder = new FrameDecoder(limit);
    const frames = Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeFrame(Buffer.alloc(1 + (i % limit), 0x62))));
    for (let i = 0; i < frames.length; i += 7) {
      decoder.push(frames.subarray(i, i + 7));
      expect(decoder.pendingBytes).toBeLessThan(FRAME_HEADER_BYTES + limit);
    }
    expect(decoder.pendingBytes).toBe(0);
  });

  it('refuses a limit outside 1..HARD_MAX_FRAME_BYTES', () => {
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
    expect(() => new FrameDecoder(HARD_MAX_FRAME_BYTES + 1)).toThrow(RangeError);
    expect(() => new FrameDecoder(DEFAULT_MAX_FRAME_BYTES)).not.toThrow();
  });

  it('property: any payloads, encoded and re-chunked arbitrarily, decode to the same list', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (raw, sizes) => {
          const list = raw.map((bytes) => Buffer.from(bytes));
          const all = Buffer.concat(list.map(encodeFrame));
          const decoder = new FrameDecoder(300);
          const got: Buffer[] = [];
          let offset = 0;
          for (let k = 0; offset < all.length; k += 1) {
            const size = sizes[k % sizes.length];
            got.push(...decoder.push(all.subarray(offset, offset + size)));
            offset += size;
          }
          expect(got).toEqual(list);
          expect(decoder.pendingBytes).toBe(0);
        },
      ),
    );
  });
});
