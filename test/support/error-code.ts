/**
 * Tests assert on stable error codes, never on messages. These return the
 * code a call failed with, or a marker when it did not fail, so a test reads
 * `expect(codeOf(() => …)).toBe('KEY_NOT_FOUND')`.
 */

/** What codeOf returns when the call succeeded. */
export const NO_ERROR = 'NO_ERROR';

function codeFrom(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : `UNTYPED: ${String(err)}`;
}

/** The code a synchronous call throws. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return codeFrom(err);
  }
  return NO_ERROR;
}

/** The code a promise rejects with, or a (sync or async) function throws. */
export async function rejectionCode(work: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    return codeFrom(err);
  }
  return NO_ERROR;
}
