/**
 * What a backup's manifest says of its snapshot, read from the snapshot file
 * itself (never from the live keychain): counts of each kind of row, the
 * audit chain head and newest signed checkpoint, the keychain's identity,
 * the master-key versions its keychain keys are wrapped under, and the
 * trust state's counter. Read from the file that is shipped, the manifest
 * cannot describe a state other than the one it signs, whatever the server
 * wrote meanwhile. `backup verify` reads the same facts again and compares.
 *
 * Only sealed bytes and metadata pass through here; nothing is decided.
 */
import Database from 'better-sqlite3';

/** Rows counted in a manifest, by what they are. */
export interface SnapshotCounts {
  readonly keys: number;
  readonly instances: number;
  /** Instances that still hold sealed material (destroyed ones hold none). */
  readonly sealedInstances: number;
  readonly clients: number;
  readonly grants: number;
  readonly aliases: number;
  readonly quorums: number;
  readonly approvals: number;
  readonly approvalVotes: number;
  readonly auditEvents: number;
  readonly auditCheckpoints: number;
}

export interface SnapshotCheckpoint {
  readonly seq: number;
  /** Hex. */
  readonly hash: string;
  readonly signedAt: string;
  /** Base64 (IEEE P1363 ECDSA). */
  readonly signature: string;
  readonly publicKey: string;
}

export interface SnapshotFacts {
  /** PRAGMA user_version of the snapshot: the schema it was written with. */
  readonly schemaVersion: number;
  readonly keychainId: string;
  readonly tokenLabel: string;
  readonly tokenSerial: string;
  /** The newest keychain key version (what seals new material). */
  readonly keychainKeyVersion: number;
  /** The HSM master-key versions the keychain keys are wrapped under, ascending. */
  readonly masterKeyVersions: readonly number[];
  /** 'hsm' or 'hsm+shares' (custodian shares needed to open it too). */
  readonly unsealBinding: string;
  readonly counts: SnapshotCounts;
  /** The audit chain head (hash in hex), null for an empty trail. */
  readonly auditHead: { readonly seq: number; readonly hash: string } | null;
  readonly lastCheckpoint: SnapshotCheckpoint | null;
  /** The trust state's change counter (domain/trust/trust-ledger.ts), null without one. */
  readonly trustCounter: number | null;
}

const COUNTS: Readonly<Record<keyof SnapshotCounts, string>> = {
  keys: 'SELECT count(*) FROM keys',
  instances: 'SELECT count(*) FROM key_instances',
  sealedInstances: 'SELECT count(*) FROM key_instances WHERE sealed_material IS NOT NULL',
  clients: 'SELECT count(*) FROM clients',
  grants: 'SELECT count(*) FROM grants',
  aliases: 'SELECT count(*) FROM aliases',
  quorums: 'SELECT count(*) FROM dual_control_quorums',
  approvals: 'SELECT count(*) FROM approval_requests',
  approvalVotes: 'SELECT count(*) FROM approval_votes',
  auditEvents: 'SELECT count(*) FROM audit_events',
  auditCheckpoints: 'SELECT count(*) FROM audit_checkpoints',
};

/** Reads the facts of the keychain database open on `db`, in one read transaction. */
export function readSnapshotFacts(db: Database.Database): SnapshotFacts {
  return db.transaction(() => {
    const meta = db.prepare('SELECT keychain_id AS keychainId, token_label AS tokenLabel, token_serial AS tokenSerial FROM keychain_meta WHERE id = 1').get() as
      | { keychainId: string; tokenLabel: string; tokenSerial: string }
      | undefined;
    if (meta === undefined) throw new Error('the snapshot holds no keychain (no meta row)');
    const wrapped = db.prepare('SELECT version, master_key_version AS mk FROM keychain_keys ORDER BY version').all() as Array<{ version: number; mk: number }>;
    const counts = Object.fromEntries(Object.entries(COUNTS).map(([name, sql]) => [name, db.prepare(sql).pluck().get() as number])) as unknown as SnapshotCounts;
    const head = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: Buffer } | undefined;
    const checkpoint = db.prepare('SELECT seq, hash, signed_at AS signedAt, signature, public_key AS publicKey FROM audit_checkpoints ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: Buffer; signedAt: string; signature: Buffer; publicKey: string }
      | undefined;
    const policy = db.prepare('SELECT binding FROM unseal_policy LIMIT 1').pluck().get() as string | undefined;
    const trust = db.prepare('SELECT counter FROM trust_state WHERE id = 1').pluck().get() as number | undefined;
    return {
      schemaVersion: db.pragma('user_version', { simple: true }) as number,
      ...meta,
      keychainKeyVersion: wrapped.length === 0 ? 0 : wrapped[wrapped.length - 1].version,
      masterKeyVersions: [...new Set(wrapped.map((w) => w.mk))].sort((a, b) => a - b),
      unsealBinding: policy ?? 'hsm',
      counts,
      auditHead: head === undefined ? null : { seq: head.seq, hash: head.hash.toString('hex') },
      lastCheckpoint:
        checkpoint === undefined
          ? null
          : { seq: checkpoint.seq, hash: checkpoint.hash.toString('hex'), signedAt: checkpoint.signedAt, signature: checkpoint.signature.toString('base64'), publicKey: checkpoint.publicKey },
      trustCounter: trust ?? null,
    };
  })();
}
