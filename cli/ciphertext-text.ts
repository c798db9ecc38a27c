/**
 * The text form `strongroom encrypt` prints and `strongroom decrypt` reads:
 * one line that says which key to ask and whether an AAD was bound, around
 * the Encrypt operation's ciphertext exactly as the appliance returned it
 * (docs/protocol.md §6.1: version, instance name, IV, ciphertext, tag), so
 * that a script can keep it anywhere text goes and hand it back as is.
 *
 *   strongroom:v1:<key name>[:aad]:<base64 ciphertext>
 *
 * Key names hold no ':' (letters, digits, '.', '_', '-', '/') and base64
 * holds none either, so the fields split without escaping. `decrypt` also
 * accepts the JSON document `encrypt --json` prints (its `ciphertext` is
 * this line). Pure: no I/O.
 */
import { ValidationError } from '../common/errors';

/** The first fields of every line: what it is, and the version of this layout. */
export const CIPHERTEXT_PREFIX = 'strongroom:v1:';
/** The marker of a ciphertext whose Encrypt was given an AAD (decrypt needs the same --aad). */
const AAD_MARKER = 'aad';
/** Longest input decrypt parses as text: a 1 MiB frame's worth of base64 and then some; bounds the regex work. */
export const MAX_CIPHERTEXT_TEXT = 2 * 1024 * 1024;

export interface CiphertextText {
  /** The full name of the key Encrypt used (an alias resolved, so the line outlives the alias's moves). */
  readonly key: string;
  /** Whether Encrypt bound an AAD: decrypt refuses to run without one (and with one when none was bound). */
  readonly aad: boolean;
  /** Encrypt's ciphertext, byte for byte. */
  readonly ciphertext: Buffer;
}

/** The one-line text form of an Encrypt result. */
export function formatCiphertext(sealed: CiphertextText): string {
  return `${CIPHERTEXT_PREFIX}${sealed.key}${sealed.aad ? `:${AAD_MARKER}` : ''}:${sealed.ciphertext.toString('base64')}`;
}

const LINE = /^strongroom:v1:([A-Za-z0-9._/-]{1,200})(:aad)?:([A-Za-z0-9+/]+={0,2})$/;

function notCiphertext(why: string): ValidationError {
  return new ValidationError(`the input is not a strongroom ciphertext (${why}): give what \`strongroom encrypt\` printed (a line starting "${CIPHERTEXT_PREFIX}", or its --json document)`);
}

/**
 * Reads what `encrypt` wrote: the line (surrounding whitespace ignored) or
 * the JSON document of `encrypt --json`. INVALID_ARGUMENT otherwise, naming
 * what was expected, never echoing the input.
 */
export function parseCiphertext(input: string): CiphertextText {
  if (input.length > MAX_CIPHERTEXT_TEXT) throw notCiphertext(`longer than ${MAX_CIPHERTEXT_TEXT} characters`);
  const text = input.trim();
  if (text.startsWith('{')) return fromJsonDocument(text);
  const match = LINE.exec(text);
  if (!match) throw notCiphertext(text.startsWith(CIPHERTEXT_PREFIX) ? 'a malformed line' : `no "${CIPHERTEXT_PREFIX}" prefix`);
  return { key: match[1], aad: match[2] !== undefined, ciphertext: Buffer.from(match[3], 'base64') };
}

function fromJsonDocument(text: string): CiphertextText {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw notCiphertext('JSON that does not parse');
  }
  const line = (document as { ciphertext?: unknown } | null)?.ciphertext;
  if (typeof line !== 'string' || line.trimStart().startsWith('{')) throw notCiphertext('a JSON document without a "ciphertext" line');
  const parsed = parseCiphertext(line);
  const key = (document as { key?: unknown }).key;
  // The document's own key field must agree with its line: an edited document is refused, not half-believed.
  if (key !== undefined && key !== parsed.key) throw notCiphertext(`its "key" (${String(key).slice(0, 200)}) is not the key its ciphertext names`);
  return parsed;
}
