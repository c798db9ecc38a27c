/**
 * `strongroom cluster join`: makes this appliance a node of a cluster whose
 * keychain another node created in the shared PostgreSQL database (issue 17,
 * docs/cluster/join.md). Run on the new node, with its configuration pointing
 * at that database and at its own HSM token, before its first `serve`.
 *
 * In this order, each step before the first write:
 * 1. storage must be postgres (NOT_ON_SQLITE: a SQLite file is one
 *    appliance's), and the keychain must exist (the schema is created or
 *    upgraded as any open does);
 * 2. the token's master key must be the keychain's: the master key check
 *    value (MASTER_KEY_MISMATCH), before anything is written to the token or
 *    the database;
 * 3. the token gets its audit signing key (kept if it has one);
 * 4. the keychain is unsealed with this token: only a node whose HSM holds
 *    the master key can compute the row MAC a signer row needs;
 * 5. the key is added to the cluster's signer list, row and
 *    `audit-signer-added` event in one transaction (a key listed already
 *    changes nothing: joining twice is safe).
 *
 * Not dual-controlled, on purpose (docs/cluster/join.md says why): the power
 * to add a signer is holding the master key in an HSM, which is already the
 * power to serve every key; what keeps it from being silent is the event in
 * the chain, which every node's AuditVerify and every SIEM sink sees.
 */
import { Clock } from '../../common/clock';
import { ApplianceConfig, setting } from '../../common/config';
import { KeychainError, ValidationError } from '../../common/errors';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';
import { assertMasterKeyCheck } from '../../domain/unseal/master-key-check';
import { Appliance } from '../compose/open-appliance';
import { nodeName } from './node-name';
import { nodeNameConflict } from './node-identity';

export { nodeName };

export interface JoinOptions {
  /** The node's name in the signer list and the trail; default: the node_name setting, else the host name. */
  readonly node?: string;
  readonly operator: { readonly name: string; readonly subject: string };
  readonly clock: Clock;
}

export interface JoinResult {
  readonly keychainId: string;
  readonly node: string;
  readonly token: { readonly label: string; readonly serialNumber: string };
  /** The node's checkpoint signing key. */
  readonly signingKey: { readonly fingerprint: string; readonly created: boolean };
  /** False when the key was on the list already (nothing written). */
  readonly registered: boolean;
  /** The `audit-signer-added` event's seq, or null. */
  readonly eventSeq: number | null;
  /** Every signer on the list now, this node included. */
  readonly signers: ReadonlyArray<{ readonly node: string; readonly fingerprint: string; readonly addedAt: string }>;
}

/**
 * The first node's own registration, at `init` on PostgreSQL (the keychain
 * just made and unsealed): its key is on the list, with its event, before its
 * first checkpoint, so the nodes that join later accept all its checkpoints.
 */
export async function registerFirstNode(appliance: Appliance, options: JoinOptions): Promise<void> {
  if (appliance.storage !== 'postgres') return;
  const publicKey = await (await appliance.hsm()).signingPublicKey();
  appliance.keychain.enrolAuditSigner({ clock: options.clock, newId: () => appliance.ids.newId() }, { publicKey, node: nodeName(options.node ?? appliance.config.values.node_name), operator: options.operator });
}

function notOnSqlite(): KeychainError {
  return new KeychainError('NOT_ON_SQLITE', 'cluster join needs the keychain in PostgreSQL (storage = postgres): this appliance keeps it in a SQLite file, which belongs to one appliance; nothing was done. Set storage = postgres and its settings (docs/cluster/one-appliance.md), then run it again');
}

/** NOT_ON_SQLITE unless the configuration keeps the keychain in PostgreSQL: checked before anything is opened (an open creates files). */
export function assertClusterStorage(config: ApplianceConfig): void {
  if (setting(config, 'storage') !== 'postgres') throw notOnSqlite();
}

export async function joinCluster(appliance: Appliance, options: JoinOptions): Promise<JoinResult> {
  const node = nodeName(options.node ?? appliance.config.values.node_name);
  if (appliance.storage !== 'postgres') throw notOnSqlite();
  const meta = appliance.store.getMeta();
  if (meta === null) throw new KeychainError('KEYCHAIN_NOT_INITIALIZED', 'the PostgreSQL database holds no keychain yet: run `strongroom init` on the first node, then `cluster join` on each other node');
  const hsm = await appliance.hsm();
  // Before anything is written, to the token or the database: a node with another master key stops here.
  await assertMasterKeyCheck(appliance.store, hsm);
  const hadKey = await hsm.signingPublicKey().then(() => true, () => false);
  const publicKey = await hsm.ensureSigningKey();
  await appliance.unseal();
  // A name another node has (or not the name this node joined as) would make two nodes one holder of the scheduler's lease.
  const conflict = nodeNameConflict(node, publicKeyFingerprint(publicKey), appliance.keychain.auditSigners());
  if (conflict !== null) throw new ValidationError(`cluster join: ${conflict}; nothing was written to the database (give this node's own name with --node NAME, the same as its node_name)`, { details: { option: '--node' } });
  const enrolled = appliance.keychain.enrolAuditSigner({ clock: options.clock, newId: () => appliance.ids.newId() }, { publicKey, node, operator: options.operator });
  const token = await hsm.tokenInfo();
  return {
    keychainId: meta.keychainId,
    node,
    token: { label: token.label, serialNumber: token.serialNumber },
    signingKey: { fingerprint: publicKeyFingerprint(publicKey), created: !hadKey },
    registered: enrolled.added,
    eventSeq: enrolled.eventSeq,
    signers: appliance.keychain.auditSigners().map((s) => ({ node: s.node, fingerprint: s.fingerprint, addedAt: s.addedAt })),
  };
}
