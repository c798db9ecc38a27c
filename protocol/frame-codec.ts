/**
 * Framing of the native protocol (docs/protocol.md §2): a 4-byte big-endian
 * unsigned length, then that many bytes of UTF-8 JSON. Pure: no I/O, no
 * clock, no logger, no module state. Used by the server and the client.
 *
 * The length is checked against the limit as soon as the 4 header bytes are
 * in, before any payload byte is buffered, so a hostile peer can never make
 * us allocate what its header claims.
 */
import { ProtocolError } from './protocol-error';

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;
/** Default largest payload: 1 MiB holds any request (an 8 KiB secret base64'd, a 64-item batch) many times over. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** No configuration may raise the limit past this: it bounds memory per connection. */
export const HARD_MAX_FRAME_BYTES = 16 * 1024 * 1024;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Incremental decoder: feed it chunks as they arrive, get whole payloads.
 * A zero-length frame comes out as an empty Buffer (the stream stays in
 * step). An oversized one throws FRAME_TOO_LARGE and poisons the decoder:
 * the stream cannot be resynchronised, the connection must close.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private expected = -1;
  private failed: ProtocolError | null = null;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > HARD_MAX_FRAME_BYTES) {
      throw new RangeError(`maxFrameBytes must be 1..${HARD_MAX_FRAME_BYTES}`);
    }
  }

  /** Bytes held for an incomplete frame: what this connection costs in memory now. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** True while a frame has started but not finished (for "half-sent" timeouts). */
  get midFrame(): boolean {
    return this.buffered > 0;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw this.failed;
    const frames: Buffer[] = [];
    if (chunk.length === 0) return frames;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.peekLength();
        if (length > this.maxFrameBytes) {
          this.fail(new ProtocolError('FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`, { length, limit: this.maxFrameBytes }));
        }
        this.consume(FRAME_HEADER_BYTES);
        this.expected = length;
        if (length === 0) {
          // An empty frame keeps the stream in step: it is handed on (the
          // server answers FRAME_EMPTY) and decoding goes on.
          frames.push(Buffer.alloc(0));
          this.expected = -1;
          continue;
        }
      }
      if (this.buffered < this.expected) break;
      frames.push(this.consume(this.expected));
      this.expected = -1;
    }
    return frames;
  }

  private fail(error: ProtocolError): never {
    this.failed = error;
    this.chunks = [];
    this.buffered = 0;
    throw error;
  }

  private peekLength(): number {
    const head = this.chunks[0].length >= FRAME_HEADER_BYTES ? this.chunks[0] : Buffer.concat(this.chunks, FRAME_HEADER_BYTES);
    return head.readUInt32BE(0);
  }

  /** Removes and returns the first n buffered bytes, copying only when they span chunks. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, take);
      filled += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    return out;
  }
}
