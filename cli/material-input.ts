/**
 * The secret material an operator supplies to `key register` and `key
 * rollover --from-file`: read from a file or standard input, decoded (raw,
 * hex, base64), optionally stripped of one trailing newline, and described
 * (length in bytes, whether it ends with a newline) so the operator knows
 * what was stored without the bytes ever being printed.
 *
 * Raw material is stored byte for byte unless --strip-newline is given: the
 * CLI cannot tell the newline `echo` or an editor appends from a binary
 * secret that happens to end in 0x0A (one random secret in 256 does), and a
 * silently altered secret no longer matches its other copy. So it never
 * changes the bytes unasked; it says what it stored and warns when the
 * material ends with a newline.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ValidationError } from '../common/errors';
import { wipe } from '../common/secret';

export interface MaterialOptions {
  fromFile?: string;
  encoding: string;
  stripNewline?: boolean;
}

/** What was stored, for the operator: never the bytes. */
export interface MaterialSummary {
  readonly bytes: number;
  /** Whether the stored bytes end with 0x0A. */
  readonly endsWithNewline: boolean;
  /** True when --strip-newline removed one trailing "\n" or "\r\n". */
  readonly strippedNewline: boolean;
}

/** The help text of --strip-newline, shared by register and rollover. */
export const STRIP_NEWLINE_HELP = 'remove exactly one trailing "\\n" or "\\r\\n" (what echo or a text editor adds); without it the bytes are stored exactly as given';

/** Adds --encoding and --strip-newline (the caller adds its own --from-file: its default differs). */
export function addMaterialFormatOptions(command: Command): Command {
  return command
    .option('--encoding <enc>', 'how the input is encoded: raw, hex or base64', 'raw')
    .option('--strip-newline', STRIP_NEWLINE_HELP);
}

/**
 * Reads, decodes and (with --strip-newline) trims the material. The
 * returned Buffer is the caller's to zero; every intermediate copy is zeroed here.
 */
export function readMaterial(options: MaterialOptions): { material: Buffer; summary: MaterialSummary } {
  if (options.stripNewline && options.encoding !== 'raw') {
    throw new ValidationError('--strip-newline is for raw input: hex and base64 text is trimmed of whitespace already', { details: { field: 'strip-newline' } });
  }
  const input = readInput(options.fromFile === '-' || !options.fromFile ? 0 : options.fromFile);
  try {
    const cut = options.stripNewline ? trailingNewlineLength(input) : 0;
    const material = decode(input.subarray(0, input.length - cut), options.encoding);
    return { material, summary: { bytes: material.length, endsWithNewline: endsWithNewline(material), strippedNewline: cut > 0 } };
  } finally {
    wipe(input);
  }
}

/** One line for humans: the length and how the material ends (never the bytes). */
export function describeMaterial(summary: MaterialSummary): string {
  const ending = summary.endsWithNewline ? 'ending with a newline' : 'not ending with a newline';
  return `stored ${summary.bytes} bytes, ${ending}${summary.strippedNewline ? ' (one trailing newline stripped)' : ''}`;
}

/** The warning a stored trailing newline deserves: it is rarely part of a password. */
export function newlineWarning(summary: MaterialSummary, options: MaterialOptions, fullName: string): string | null {
  // Only raw text gets a newline by accident: decoded hex or base64 ends as the operator spelled it.
  if (!summary.endsWithNewline || options.encoding !== 'raw') return null;
  return `the material of ${fullName} ends with a newline and was stored with it; if the newline is not part of the secret, replace it: strongroom key rollover ${fullName} --from-file FILE --strip-newline`;
}

function endsWithNewline(material: Buffer): boolean {
  return material.length > 0 && material[material.length - 1] === 0x0a;
}

/** 2 for a trailing "\r\n", 1 for "\n", else 0. */
function trailingNewlineLength(material: Buffer): number {
  const n = material.length;
  if (n >= 2 && material[n - 2] === 0x0d && material[n - 1] === 0x0a) return 2;
  return n >= 1 && material[n - 1] === 0x0a ? 1 : 0;
}

function readInput(from: string | 0): Buffer {
  try {
    return readFileSync(from);
  } catch (cause) {
    throw new ValidationError(`cannot read ${from === 0 ? 'standard input' : from} (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give a readable file to --from-file`, { cause });
  }
}

function decode(input: Buffer, encoding: string): Buffer {
  if (encoding === 'raw') return Buffer.from(input);
  if (encoding !== 'hex' && encoding !== 'base64') throw new ValidationError('--encoding is raw, hex or base64');
  const text = input.toString('latin1').trim();
  const valid = encoding === 'hex' ? /^([0-9a-fA-F]{2})+$/ : /^[A-Za-z0-9+/]+={0,2}$/;
  if (!valid.test(text)) throw new ValidationError(`the input is not ${encoding}`);
  return Buffer.from(text, encoding);
}
