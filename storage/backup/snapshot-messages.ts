/** The messages between the server and its backup snapshot worker (no I/O, no state). */
import { SnapshotFacts } from './snapshot-facts';

export interface SnapshotSetup {
  readonly keychainPath: string;
  /** Where the snapshot is written: must not exist (it is created mode 0600). */
  readonly outPath: string;
}

/** The snapshot's size and SHA-256 (hex), and what it holds. */
export interface SnapshotResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly facts: SnapshotFacts;
}

export type SnapshotReply = ({ readonly ok: true } & SnapshotResult) | { readonly ok: false; readonly code: string; readonly message: string };
