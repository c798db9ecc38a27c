/** The messages between the server and its audit append worker (no I/O, no state). */

export interface AppendRequest {
  readonly id: number;
  /** Canonical event JSON, in the order they were recorded. */
  readonly events: readonly string[];
}

export interface ChainedRecord {
  readonly seq: number;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

export type AppendReply =
  | { readonly id: number; readonly ok: true; readonly records: readonly ChainedRecord[] }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

/** What the worker is started with. */
export interface WorkerSetup {
  readonly keychainPath: string;
}
