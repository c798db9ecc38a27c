/**
 * The fields of a `rollover-notice` audit event, read defensively: the
 * trail is untrusted storage and may hold a record of that type written by
 * someone else, of any shape, and one that throws must never stop the
 * reader (rollover-notices.ts) or the genuineness check.
 */

/** What a notice names, when the event has a notice's shape; null for anything else (the trail may hold records written by someone else). */
export function noticeFields(event: unknown): { keyId: string; instance: string; dueAt: string; noticeMac: string | null; cryptoperiod: string | null } | null {
  if (typeof event !== 'object' || event === null) return null;
  const { custom, instance } = event as { custom?: unknown; instance?: unknown };
  if (typeof custom !== 'object' || custom === null || typeof instance !== 'string') return null;
  const { keyId, dueAt, noticeMac, cryptoperiod } = custom as Record<string, unknown>;
  if (typeof keyId !== 'string' || typeof dueAt !== 'string') return null;
  return { keyId, instance, dueAt, noticeMac: typeof noticeMac === 'string' ? noticeMac : null, cryptoperiod: typeof cryptoperiod === 'string' ? cryptoperiod : null };
}
