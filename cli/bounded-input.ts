/**
 * What `encrypt` and `decrypt` read: a file (`--in FILE`) or standard input,
 * as bytes (binary-safe), up to a bound. The bound is one request's worth:
 * nothing larger could be sent in one frame, so a file of gigabytes piped in
 * by mistake is refused at the bound instead of filling memory first.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ValidationError } from '../common/errors';
import { wipe } from '../common/secret';

/** Most bytes read from --in or standard input: the default frame limit (1 MiB); Encrypt itself takes 64 KiB. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** Reads `--in` (or standard input when absent or "-") to its end; INVALID_ARGUMENT past `limit` bytes or when unreadable. */
export async function readInput(path: string | undefined, limit: number = MAX_INPUT_BYTES): Promise<Buffer> {
  const fromStdin = path === undefined || path === '-';
  const what = fromStdin ? 'standard input' : path;
  const source: Readable = fromStdin ? process.stdin : createReadStream(path);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      const bytes = chunk as Buffer;
      total += bytes.length;
      chunks.push(bytes);
      if (total > limit) {
        throw new ValidationError(`${what} holds more than ${limit} bytes: encrypt is for keys, records and small files (the appliance takes up to 64 KiB); encrypt large files locally under a data key (GenerateDataKey)`, { details: { limit } });
      }
    }
  } catch (err) {
    wipe(...chunks);
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(`cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? 'error'}): give a readable file to --in`, { cause: err });
  } finally {
    if (!fromStdin) source.destroy();
  }
  const whole = Buffer.concat(chunks, total);
  wipe(...chunks);
  return whole;
}
