/**
 * Idempotency records of retried writes (issue 17, docs/protocol.md §3.5),
 * authenticated: what a write sent with an idempotency key answered, so a
 * retry of it is answered from the record instead of running twice.
 *
 * Nothing is served from a row unless its MAC under the rows key checks
 * (only an unsealed appliance holds that key): a record planted or
 * rewritten in the database is INTEGRITY_FAILURE (fail closed), never an
 * answer. The rows are journaled into the trust set-hash
 * (storage/migration-idempotency.sql.ts), so one put back from an older
 * copy fails the next full check too.
 *
 * The arguments' digest is an HMAC-SHA-256 under the rows key, not a bare
 * SHA-256: Register's and ReKey's arguments may hold a caller's SECRET (a
 * password), and a plain hash of it in the database would let anyone with
 * the file test guesses against it. The canonical form is fed to the HMAC
 * field by field, Buffers as they are, so no string copy of material is
 * ever made (strings cannot be zeroed).
 */
import { createHmac, Hmac } from 'node:crypto';
import { Clock, isoNow } from '../common/clock';
import { KeychainError, StrongroomError } from '../common/errors';
import { IdempotencyRecord, IdempotencyStore } from '../storage/idempotency-store';
import { encodeFields } from './field-encoding';
import { assertRowMac } from './trust/authorisation-row-macs';
import { TrustKeys } from './trust/trust-keys';

/** A record authenticated: what the first run of the write was and answered. */
export interface IdempotentAnswer {
  readonly operation: string;
  readonly argsDigest: Buffer;
  /** The first run's result, parsed from the stored JSON. */
  readonly result: unknown;
  readonly createdAt: string;
}

export function idempotencyRowMac(keys: TrustKeys, r: Omit<IdempotencyRecord, 'rowMac'>): Buffer {
  return createHmac('sha256', keys.rows)
    .update(encodeFields(['strongroom/idempotency-row/v1', keys.keychainId, r.clientId, r.idempotencyKey, r.operation, r.argsDigest.toString('hex'), r.result, r.createdAt]))
    .digest();
}

/** One tagged, length-prefixed value into the HMAC: no two different argument trees feed the same bytes. */
function feed(hmac: Hmac, value: unknown): void {
  const length = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const text = (tag: string, s: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    hmac.update(tag).update(length(bytes.length)).update(bytes);
  };
  if (value === null) hmac.update('n');
  else if (typeof value === 'boolean') hmac.update(value ? 't' : 'f');
  else if (typeof value === 'number') text('d', String(value));
  else if (typeof value === 'string') text('s', value);
  else if (Buffer.isBuffer(value)) hmac.update('b').update(length(value.length)).update(value);
  else if (Array.isArray(value)) {
    hmac.update('a').update(length(value.length));
    for (const item of value) feed(hmac, item);
  } else if (typeof value === 'object') {
    // Absent and undefined are the same request; keys in code-unit order, so field order on the wire does not matter.
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    hmac.update('o').update(length(entries.length));
    for (const [name, v] of entries) {
      text('k', name);
      feed(hmac, v);
    }
  } else throw new KeychainError('INTERNAL_ERROR', `an argument of type ${typeof value} has no canonical form`);
}

/** The keyed digest of an operation's validated arguments: the same for the same request, whatever its field order. */
export function argumentsDigest(keys: TrustKeys, operation: string, args: unknown): Buffer {
  const hmac = createHmac('sha256', keys.rows).update(encodeFields(['strongroom/idempotency-args/v1', keys.keychainId, operation]));
  feed(hmac, args);
  return hmac.digest();
}

/** The result as stored JSON; refuses (INTERNAL_ERROR) one that holds bytes, which is where material would be. */
function resultJson(operation: string, result: unknown): string {
  return JSON.stringify(result === undefined ? null : result, function refuseBytes(this: Record<string, unknown>, name: string, value: unknown) {
    const original = this[name];
    if (Buffer.isBuffer(original) || original instanceof Uint8Array) {
      throw new KeychainError('INTERNAL_ERROR', `${operation}'s result holds bytes (${name}): it is not stored as an idempotent answer`);
    }
    return value;
  });
}

function sealed(): KeychainError {
  return new KeychainError('SEALED', 'the keychain is sealed: an idempotent write can neither be checked nor recorded; unseal it (strongroom unseal), then retry');
}

export class IdempotencyRecords {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly keys: () => TrustKeys | null,
    private readonly clock: Clock,
  ) {}

  private trustKeys(): TrustKeys {
    const keys = this.keys();
    if (keys === null) throw sealed();
    return keys;
  }

  digest(operation: string, args: unknown): Buffer {
    return argumentsDigest(this.trustKeys(), operation, args);
  }

  /** The authenticated record of (client, key), or null: INTEGRITY_FAILURE for a row the appliance did not write. */
  find(clientId: string, idempotencyKey: string): IdempotentAnswer | null {
    const keys = this.trustKeys();
    const row = this.store.readIdempotencyRecord(clientId, idempotencyKey);
    if (row === null) return null;
    assertRowMac(idempotencyRowMac(keys, row), row.rowMac, 'idempotency record');
    let result: unknown;
    try {
      result = JSON.parse(row.result);
    } catch (err) {
      // Authenticated yet unreadable: this code wrote it, so it is a fault, not an attack.
      throw new KeychainError('INTERNAL_ERROR', 'an authenticated idempotency record does not hold JSON', { cause: err });
    }
    return { operation: row.operation, argsDigest: row.argsDigest, result, createdAt: row.createdAt };
  }

  /**
   * Writes the record, to be called inside the transaction of the change it
   * records; false when (client, key) already has one (another run of the
   * same key committed first: the caller undoes its change).
   */
  record(clientId: string, idempotencyKey: string, operation: string, argsDigest: Buffer, result: unknown): boolean {
    const keys = this.trustKeys();
    const unmaced = { clientId, idempotencyKey, operation, argsDigest, result: resultJson(operation, result), createdAt: isoNow(this.clock) };
    return this.store.insertIdempotencyRecord({ ...unmaced, rowMac: idempotencyRowMac(keys, unmaced) });
  }

  /** Deletes at most `limit` records written before `cutoffMs`: a batch of the retention sweep. Only while unsealed (the deletes are journaled). */
  deleteOlderThan(cutoffMs: number, limit: number): number {
    this.trustKeys();
    return this.store.deleteIdempotencyRecordsBefore(new Date(cutoffMs).toISOString(), limit);
  }
}

/** IDEMPOTENCY_KEY_REUSED: the key names another write of this client. */
export function keyReused(idempotencyKey: string, operation: string, stored: IdempotentAnswer): StrongroomError {
  const what = stored.operation === operation ? `${operation} with other arguments` : `${stored.operation}, not ${operation}`;
  return new KeychainError('IDEMPOTENCY_KEY_REUSED', `idempotency key "${idempotencyKey}" was used by this client at ${stored.createdAt} for ${what}: nothing was done; send a new key for a new write`, {
    details: { operation: stored.operation, createdAt: stored.createdAt },
  });
}
