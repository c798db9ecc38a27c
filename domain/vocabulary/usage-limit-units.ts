/**
 * The units of a usage limit (KMIP Usage Limits Unit; domain/usage-limits.ts):
 * `byte`, the bytes of data each operation takes in; `object`, one per
 * operation. The one list the wire schema and the domain use; it imports
 * nothing, so the codecs and the client library may import it too.
 */

export const USAGE_LIMIT_UNITS = ['byte', 'object'] as const;
export type UsageLimitUnit = (typeof USAGE_LIMIT_UNITS)[number];
