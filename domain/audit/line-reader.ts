/**
 * Splits a byte stream into text lines with a ceiling on line length, so a
 * hostile or broken file (one endless line) cannot make the reader buffer
 * it whole: past `maxLineBytes` without a newline the read stops with
 * INVALID_ARGUMENT naming the line. Handles `\n` and `\r\n`; a last line
 * without a newline is still a line.
 */
import { ValidationError } from '../../common/errors';

export interface NumberedLine {
  readonly text: string;
  /** 1-based. */
  readonly number: number;
}

export async function* readLines(chunks: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<NumberedLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let number = 0;
  const take = (tail: Buffer): NumberedLine => {
    const whole = Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    number++;
    const end = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
    return { text: whole.toString('utf8', 0, end), number };
  };
  for await (const raw of chunks) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    for (let newline = chunk.indexOf(0x0a); newline >= 0; newline = chunk.indexOf(0x0a)) {
      if (pendingBytes + newline > maxLineBytes + 1) throw tooLong(number + 1, maxLineBytes);
      yield take(chunk.subarray(0, newline));
      chunk = chunk.subarray(newline + 1);
    }
    if (chunk.length > 0) {
      pendingBytes += chunk.length;
      if (pendingBytes > maxLineBytes + 1) throw tooLong(number + 1, maxLineBytes);
      // Copied: the stream may reuse its chunk's memory.
      pending.push(Buffer.from(chunk));
    }
  }
  if (pendingBytes > 0) yield take(Buffer.alloc(0));
}

function tooLong(line: number, max: number): ValidationError {
  return new ValidationError(`line ${line}: longer than ${max} bytes; not an audit line (is this the right file?)`, { details: { line } });
}
