/**
 * Where random identifiers come from. Injected so tests can make them
 * predictable; the default draws from node:crypto, and this is the only place
 * that does (the appliance passes one IdSource to the keychain, the
 * composition root and local mode: server/compose/open-appliance.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** 15 random bytes: 120 bits, 20 URL-safe base64 characters with no padding. */
const INSTANCE_NAME_BYTES = 15;

export interface IdSource {
  /** Opaque ids for rows (keys, instances, keychains). */
  newId(): string;
  /** A random, unique, URL-safe instance name callers can quote. */
  newInstanceName(): string;
}

export const randomIds: IdSource = {
  newId: () => randomUUID(),
  newInstanceName: () => randomBytes(INSTANCE_NAME_BYTES).toString('base64url'),
};
