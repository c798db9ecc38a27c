/**
 * The audit store port: an append-only sequence of audit events, each stored
 * with the hash chaining it to the one before (domain/audit/audit-chain.ts).
 * Two implementations share test/storage/audit-store-conformance.ts: SQLite
 * (storage/sqlite-audit-store.ts, in the keychain database, where triggers
 * refuse UPDATE and DELETE) and memory.
 *
 * The store is untrusted like the rest: tampering is detected by verifying
 * the chain, not prevented by the store.
 */

export interface AuditRecord {
  /** 1, 2, 3…: gap-free. */
  readonly seq: number;
  /** The event as canonical JSON (never key material: domain/audit/audit-event.ts). */
  readonly event: string;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: Buffer;
}

/** The chain head at `seq`, signed by the HSM signing key (domain/audit/audit-checkpoint.ts). */
export interface AuditCheckpointRecord {
  readonly seq: number;
  readonly hash: Buffer;
  readonly signedAt: string;
  /** IEEE P1363 r||s over the checkpoint's digest. */
  readonly signature: Buffer;
  /** The signing public key (SPKI PEM) that made it: informative only, verifiers pin their own. */
  readonly publicKey: string;
}

/**
 * Where an audit sink stands in the trail (sinks/sink-cursor.ts): every event
 * up to `seq` (whose hash is `hash`) reached it or was not for it. Signed by
 * the HSM signing key: the store is untrusted, and a cursor moved forward
 * would make the appliance skip events.
 */
export interface SinkCursorRecord {
  readonly sink: string;
  readonly seq: number;
  readonly hash: Buffer;
  readonly savedAt: string;
  /** IEEE P1363 r||s over the cursor's digest. */
  readonly signature: Buffer;
}

/**
 * A key the cluster trusts to sign audit checkpoints (a node's HSM signing
 * key, registered by `strongroom cluster join`: domain/audit/cluster-signers.ts).
 * Untrusted as stored: the domain checks `rowMac` before believing a row.
 */
export interface AuditSignerRecord {
  /** publicKeyFingerprint(publicKey): SHA-256 of the SPKI DER, colon-separated hex. */
  readonly fingerprint: string;
  /** SPKI PEM. */
  readonly publicKey: string;
  /** The node's name, as the operator gave it (informative). */
  readonly node: string;
  readonly addedAt: string;
  /** Who registered it (the local operator). */
  readonly addedBy: string;
  readonly rowMac: Buffer;
}

export interface AuditStore {
  /** Appends records in one transaction (one fsync): all or none. STORAGE_ERROR if a seq is taken or out of order. */
  appendAuditRecords(records: readonly AuditRecord[]): void;
  /**
   * Appends the records `build` makes from the head read inside the same
   * transaction (under the write lock), so another connection appending at
   * the same time cannot collide with them. Returns what was appended.
   */
  appendAuditRecordsFromHead(build: (head: AuditHead | null) => AuditRecord[]): AuditRecord[];
  /** The last record's seq and hash, or null for an empty trail. */
  auditHead(): AuditHead | null;
  /** Records from `fromSeq` (inclusive), ascending, at most `limit`. */
  readAuditRecords(fromSeq: number, limit: number): AuditRecord[];
  /** Appends a checkpoint; STORAGE_ERROR unless its seq is above the last checkpoint's. */
  appendAuditCheckpoint(checkpoint: AuditCheckpointRecord): void;
  /** Checkpoints from `fromSeq` (inclusive), ascending, at most `limit`. */
  readAuditCheckpoints(fromSeq: number, limit: number): AuditCheckpointRecord[];
  /** The newest checkpoint, or null. */
  lastAuditCheckpoint(): AuditCheckpointRecord | null;
  /** A sink's saved cursor, or null. */
  readSinkCursor(sink: string): SinkCursorRecord | null;
  /** Saves (replaces) a sink's cursor. */
  writeSinkCursor(cursor: SinkCursorRecord): void;
  /** The registered checkpoint signers, by fingerprint (unauthenticated: the domain checks each row's MAC). */
  listAuditSigners(): AuditSignerRecord[];
  /** Registers a signer. STORAGE_ERROR if its fingerprint is registered already. */
  addAuditSigner(signer: AuditSignerRecord): void;
}
