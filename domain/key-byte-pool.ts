/**
 * Random key bytes (GenerateDataKey's data keys) drawn from the CSPRNG a
 * block at a time: one randomFillSync per 32 data keys of 256 bits instead
 * of one per key (a call of its own cost some 3 µs, the bytes themselves
 * nanoseconds). The bytes are the CSPRNG's either way; only the call is
 * shared.
 *
 * The block's undrawn bytes are future key material, so they are handled as
 * key material: every draw copies its bytes out and zeroes them in the block
 * at once (no byte is handed out twice, whatever happens to the offset); a
 * refill zeroes what was left unused first; wipe() zeroes the whole block
 * (the keychain's seal: nothing drawn before it serves after it). A draw
 * larger than a block gets a fresh buffer of its own.
 */
import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at a time: 32 keys of 256 bits. */
export const KEY_BLOCK_BYTES = 1024;

export class KeyBytePool {
  private readonly block: Buffer;
  /** Where the next draw starts; at the block's end: nothing left, refill first. */
  private offset: number;
  /** Block refills so far (tests count CSPRNG calls with it). */
  private refills = 0;

  /** `fill` is the CSPRNG (injected for tests that must see a refill). */
  constructor(private readonly blockBytes = KEY_BLOCK_BYTES, private readonly fill: (into: Buffer) => void = (into) => void randomFillSync(into)) {
    // Not from Buffer's shared slab: this memory holds key bytes only, and is zeroed as a whole by wipe().
    this.block = Buffer.alloc(blockBytes);
    this.offset = blockBytes;
  }

  /** `length` fresh random bytes in a Buffer of their own (the caller zeroes it). */
  draw(length: number): Buffer {
    if (!Number.isInteger(length) || length < 1) throw new RangeError('a key is at least one byte');
    const out = Buffer.alloc(length);
    if (length > this.blockBytes) {
      this.fill(out);
      return out;
    }
    if (this.offset + length > this.blockBytes) {
      this.block.fill(0, this.offset);
      this.fill(this.block);
      this.offset = 0;
      this.refills++;
    }
    this.block.copy(out, 0, this.offset, this.offset + length);
    this.block.fill(0, this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** Zeroes every undrawn byte; the next draw refills. */
  wipe(): void {
    this.block.fill(0);
    this.offset = this.blockBytes;
  }

  /** The bytes held now, drawn and not (tests check the zeroing). */
  heldBlock(): Buffer {
    return this.block;
  }

  get refillCount(): number {
    return this.refills;
  }
}
