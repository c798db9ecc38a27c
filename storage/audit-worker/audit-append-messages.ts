/**
 * The messages between the server and its audit append worker (no I/O, no
 * state). A batch crosses as one string and its records come back as one
 * block of hashes: a structured clone of one value per group commit instead
 * of one per event, which had cost the event loop a twentieth of its time.
 */

/**
 * Joins canonical events with a newline: canonical event JSON never holds
 * one (JSON.stringify escapes it in strings and adds no whitespace).
 */
export const EVENT_SEPARATOR = '\n';

export interface AppendRequest {
  readonly id: number;
  /** Canonical event JSON, in the order they were recorded, joined by EVENT_SEPARATOR. */
  readonly events: string;
  /** How many events `events` holds (checked by the worker after splitting). */
  readonly count: number;
}

/** Bytes of one chain hash (SHA-256). */
export const CHAIN_HASH_BYTES = 32;

/**
 * The batch's place in the chain: the first record's seq and prevHash, and
 * every record's hash, back to back (record i's prevHash is record i-1's hash).
 */
export interface ChainedBlock {
  readonly firstSeq: number;
  readonly prevHash: Uint8Array;
  readonly hashes: Uint8Array;
}

export type AppendReply =
  | { readonly id: number; readonly ok: true; readonly block: ChainedBlock }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

/** What the worker is started with. */
export interface WorkerSetup {
  readonly keychainPath: string;
}
