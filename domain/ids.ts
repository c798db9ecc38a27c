/**
 * Where random identifiers come from. Injected so tests can make them
 * predictable; the default draws from node:crypto, and this is the only place
 * that does (the appliance passes one IdSource to the keychain, the
 * composition root and local mode: server/compose/open-appliance.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';

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

/** Largest millisecond count a UUIDv7's 48-bit time field holds. */
const MAX_UUID_MS = 2 ** 48 - 1;
/** Ids one millisecond can order by its counter (UUIDv7's 12-bit rand_a field). */
const MAX_COUNTER = 0xfff;

/**
 * A UUIDv7 (RFC 9562): the millisecond `ms` in the first 48 bits, `counter`
 * (0..4095) in the 12 bits after the version, then 62 random bits (those of
 * a random v4 UUID, after its variant bits).
 */
export function uuidV7(ms: number, counter = 0): string {
  const time = Math.min(Math.max(Math.trunc(ms), 0), MAX_UUID_MS).toString(16).padStart(12, '0');
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep from the variant nibble on
  return `${time.slice(0, 8)}-${time.slice(8)}-7${(counter & MAX_COUNTER).toString(16).padStart(3, '0')}-${random.slice(19)}`;
}

/**
 * Row ids that grow with time (UUIDv7), instance names random as ever. Why:
 * every index on an id (instances by id, keys by current instance,
 * instances by key) took each new row at a random place, so a batch of
 * rollovers dirtied a page of each index per key: 30 KiB written to the WAL
 * per key rolled in a keychain of 100,000 keys. Ids made in order land
 * together at the end of those indexes, and the rollover sweep, which takes
 * due keys in id order, walks the keys in the order they were made: 11 KiB
 * per key, and a third less CPU. Ids are row handles, never secrets (names
 * are what clients quote, and access is by grant); the time they carry is
 * each row's creation time, which the row holds anyway.
 *
 * Strictly increasing from one source (RFC 9562 §6.2, method 1): ids of one
 * millisecond count up in the 12 bits after the time, and past 4,096 of
 * them, or when the clock steps back, they borrow the next millisecond, so
 * a bulk creation under a clock that does not move still makes them in order.
 */
export function timeOrderedIds(clock: Clock): IdSource {
  let lastMs = -1;
  let counter = 0;
  return {
    newId: () => {
      let ms = Math.min(Math.max(Math.trunc(clock.nowMs()), 0), MAX_UUID_MS);
      if (ms > lastMs) {
        counter = 0;
      } else if (counter < MAX_COUNTER) {
        ms = lastMs;
        counter++;
      } else {
        ms = Math.min(lastMs + 1, MAX_UUID_MS);
        counter = 0;
      }
      lastMs = ms;
      return uuidV7(ms, counter);
    },
    newInstanceName: randomIds.newInstanceName,
  };
}
