/**
 * RELP frames (the Reliable Event Logging Protocol of rsyslog and librelp):
 * building the client's frames and reading the server's, incrementally.
 *
 *   FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *
 * TXNR is 1..999,999,999 per session (0 is reserved for the server's hints,
 * such as `serverclose`), counted up by one for each command and wrapping to
 * 1 after the last; the server refuses a session whose txnr skips. DATALEN
 * is the byte length of DATA; with 0 there is no SP and no data. The server
 * answers each command with `rsp` on the same txnr, in the order the
 * commands came, and its data starts with a three-digit status (200: done).
 *
 * Pure: no sockets here (sinks/relp-channel.ts drives the session). The
 * reader refuses anything malformed or larger than MAX_RESPONSE_BYTES, so a
 * confused or hostile peer costs a closed connection, not memory.
 */

/** The largest txnr; the next one is 1 again. */
export const MAX_TXNR = 999_999_999;
/** Responses carry a status and the open offers: far below librelp's 128 KiB frame limit. */
export const MAX_RESPONSE_BYTES = 128 * 1024;
/** librelp reads nine digits at most for TXNR and DATALEN. */
const MAX_DIGITS = 9;
/** Command names are at most 32 letters. */
const MAX_COMMAND = 32;

export function nextTxnr(txnr: number): number {
  return txnr >= MAX_TXNR ? 1 : txnr + 1;
}

/** One frame on the wire. */
export function relpFrame(txnr: number, command: string, data: Buffer | string = ''): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const header = body.length === 0 ? `${txnr} ${command} 0` : `${txnr} ${command} ${body.length} `;
  return Buffer.concat([Buffer.from(header, 'ascii'), body, Buffer.from('\n', 'ascii')]);
}

/** The offers of the client's `open`: protocol version 0 (what librelp speaks), the `syslog` command. */
export function openOffers(software: string): string {
  return `relp_version=0\nrelp_software=${software}\ncommands=syslog`;
}

export interface RelpFrame {
  readonly txnr: number;
  readonly command: string;
  readonly data: Buffer;
}

/** A `rsp` frame's data: the three-digit status (200 is OK), its human text, and what follows the first LF (the open offers). */
export interface RelpResponse {
  readonly status: number;
  readonly text: string;
  readonly rest: string;
}

export function parseResponse(data: Buffer): RelpResponse {
  const all = data.toString('utf8');
  const lf = all.indexOf('\n');
  const line = lf < 0 ? all : all.slice(0, lf);
  const match = /^(\d{3})(?: (.*))?$/.exec(line);
  if (match === null) throw new RelpProtocolError(`a response without a status: ${JSON.stringify(line.slice(0, 40))}`);
  return { status: Number(match[1]), text: match[2] ?? '', rest: lf < 0 ? '' : all.slice(lf + 1) };
}

/** The offers a server accepted in its answer to `open` (name → values), from the lines after the status. */
export function acceptedOffers(rest: string): Map<string, string[]> {
  const offers = new Map<string, string[]>();
  for (const line of rest.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    offers.set(name, eq < 0 ? [] : line.slice(eq + 1).split(','));
  }
  return offers;
}

export class RelpProtocolError extends Error {
  readonly code = 'RELP_PROTOCOL';
}

/** Reads frames from the server's byte stream as they arrive (any split of the bytes). */
export class RelpFrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** The whole frames now complete; throws RelpProtocolError on a malformed one. */
  push(chunk: Buffer): RelpFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: RelpFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) break;
      frames.push(frame);
    }
    if (this.pending.length > MAX_RESPONSE_BYTES + 64) throw new RelpProtocolError('a frame longer than the limit');
    return frames;
  }

  private next(): RelpFrame | null {
    const buf = this.pending;
    const txnrEnd = buf.indexOf(0x20);
    if (txnrEnd < 0) return this.incomplete(buf.length, MAX_DIGITS);
    const txnr = digits(buf.subarray(0, txnrEnd), 'txnr');
    const commandEnd = buf.indexOf(0x20, txnrEnd + 1);
    if (commandEnd < 0) return this.incomplete(buf.length - txnrEnd - 1, MAX_COMMAND);
    const command = buf.subarray(txnrEnd + 1, commandEnd).toString('ascii');
    if (!/^[A-Za-z]{1,32}$/.test(command)) throw new RelpProtocolError(`a bad command name ${JSON.stringify(command)}`);
    // DATALEN ends at SP (data follows) or at LF (no data).
    let at = commandEnd + 1;
    while (at < buf.length && buf[at] >= 0x30 && buf[at] <= 0x39) at++;
    if (at === buf.length) return this.incomplete(at - commandEnd - 1, MAX_DIGITS);
    const length = digits(buf.subarray(commandEnd + 1, at), 'datalen');
    if (length > MAX_RESPONSE_BYTES) throw new RelpProtocolError(`a frame of ${length} bytes (the limit is ${MAX_RESPONSE_BYTES})`);
    if (length === 0) {
      if (buf[at] !== 0x0a) throw new RelpProtocolError('a frame without its trailing LF');
      this.pending = buf.subarray(at + 1);
      return { txnr, command, data: Buffer.alloc(0) };
    }
    if (buf[at] !== 0x20) throw new RelpProtocolError('no space after DATALEN');
    const end = at + 1 + length;
    if (buf.length < end + 1) return null;
    if (buf[end] !== 0x0a) throw new RelpProtocolError('a frame without its trailing LF');
    this.pending = buf.subarray(end + 1);
    return { txnr, command, data: Buffer.from(buf.subarray(at + 1, end)) };
  }

  /** Not complete yet: fine while the field so far could still be valid. */
  private incomplete(fieldLength: number, max: number): null {
    if (fieldLength > max) throw new RelpProtocolError('a header field longer than RELP allows');
    return null;
  }
}

function digits(bytes: Buffer, field: string): number {
  const text = bytes.toString('ascii');
  if (!/^\d{1,9}$/.test(text)) throw new RelpProtocolError(`a bad ${field} ${JSON.stringify(text.slice(0, 12))}`);
  return Number(text);
}
