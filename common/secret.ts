/**
 * Helpers for buffers that hold key bytes. Key material lives in Buffers that
 * are zeroed as soon as they are no longer needed, never in strings.
 */

/** Overwrites every byte with zero. Safe to call on undefined or already-zeroed buffers. */
export function wipe(...buffers: Array<Uint8Array | null | undefined>): void {
  for (const buf of buffers) if (buf) buf.fill(0);
}

/** Runs `fn` with `secret`, then zeroes the secret whatever happens. */
export function withSecret<T>(secret: Buffer, fn: (secret: Buffer) => T): T {
  try {
    return fn(secret);
  } finally {
    secret.fill(0);
  }
}

/** The async form of withSecret. */
export async function withSecretAsync<T>(secret: Buffer, fn: (secret: Buffer) => Promise<T>): Promise<T> {
  try {
    return await fn(secret);
  } finally {
    secret.fill(0);
  }
}
