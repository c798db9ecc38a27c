/**
 * How `strongroom unseal` reads a custodian's share: from --share-file, else
 * typed at the terminal with the input hidden, else from stdin (a pipe).
 * Never from a command-line argument: those leak to `ps` and shell history.
 * The share is a Shamir share (alone it reveals nothing of the secret); the
 * raw input buffers are zeroed once the text is taken.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { ValidationError } from '../common/errors';
import { wipe } from '../common/secret';
import { MAX_SHARE_TEXT_LENGTH } from '../protocol/op-schemas';

/** Most bytes read from a share file or stdin: a share is one short line. */
const MAX_SHARE_INPUT_BYTES = 4096;

function firstLine(raw: Buffer, length: number): string {
  try {
    const text = raw.subarray(0, length).toString('utf8');
    const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0);
    if (line === undefined) throw new ValidationError('no share given: the input is empty', { details: { field: 'share' } });
    if (line.length > MAX_SHARE_TEXT_LENGTH) throw new ValidationError('the share line is too long to be a share', { details: { field: 'share' } });
    return line;
  } finally {
    wipe(raw);
  }
}

function readBounded(fd: number): { raw: Buffer; length: number } {
  const raw = Buffer.alloc(MAX_SHARE_INPUT_BYTES);
  let length = 0;
  for (let i = 0; i < MAX_SHARE_INPUT_BYTES && length < raw.length; i++) {
    let n: number;
    try {
      n = readSync(fd, raw, length, raw.length - length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    length += n;
  }
  return { raw, length };
}

export function readShareFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    throw new ValidationError(`cannot read the share file ${path}`, { cause, details: { field: 'share-file' } });
  }
  try {
    const { raw, length } = readBounded(fd);
    return firstLine(raw, length);
  } finally {
    closeSync(fd);
  }
}

/** Prompts on stderr and reads one line from the terminal without echoing it. */
export function promptHidden(prompt: string, stdin: NodeJS.ReadStream = process.stdin, stderr: NodeJS.WriteStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = Buffer.alloc(MAX_SHARE_INPUT_BYTES);
    let length = 0;
    stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (error: Error | null): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      stderr.write('\n');
      if (error) {
        wipe(raw);
        reject(error);
      } else {
        try {
          resolve(firstLine(raw, length));
        } catch (err) {
          reject(err);
        }
      }
    };
    const onData = (chunk: Buffer): void => {
      for (const byte of chunk) {
        if (byte === 0x03) return finish(new ValidationError('cancelled', { details: { field: 'share' } }));
        if (byte === 0x0d || byte === 0x0a) return finish(null);
        if (byte === 0x7f || byte === 0x08) length = Math.max(0, length - 1);
        else if (length < raw.length) raw[length++] = byte;
      }
      wipe(chunk);
    };
    stdin.on('data', onData);
  });
}

/** The share, from the file, the terminal or stdin. */
export async function readShare(shareFile: string | undefined): Promise<string> {
  if (shareFile !== undefined) return readShareFile(shareFile);
  if (process.stdin.isTTY) return promptHidden('Share (input hidden): ');
  const { raw, length } = readBounded(0);
  return firstLine(raw, length);
}
