/**
 * What `strongroom cluster status` shows (the ClusterStatus operation,
 * operations/cluster-operations.ts): this node's name and whether its audit
 * signing key is on the cluster's list, the storage engine, the Patroni
 * primary and each node's role (when postgres_patroni is set), whether this
 * node's HSM holds the keychain's master key (the check value), the
 * scheduler's lease, and the list of audit signers. It only reads.
 *
 * On SQLite it answers that the appliance is a single node, and nothing
 * else: there is no other node, no lease to share, no signer list to read.
 * The lease and the signer list are authenticated rows: read only while
 * unsealed (the dispatcher's sealed gate comes first), and a row that fails
 * its MAC is INTEGRITY_FAILURE, never a quieter answer.
 */
import { Clock, isoNow } from '../../common/clock';
import { PostgresTarget, postgresTarget } from '../../common/storage-settings';
import { asStrongroomError } from '../../common/errors';
import { publicKeyFingerprint } from '../../domain/audit/audit-checkpoint';
import { assertMasterKeyCheck } from '../../domain/unseal/master-key-check';
import { RestProbe } from '../../storage/postgres/patroni-rest';
import { Appliance } from '../compose/open-appliance';
import { configuredNodeName } from './node-name';

/** How long one Patroni node may take to answer: a dead node must not hold up the status. */
export const PATRONI_PROBE_TIMEOUT_MS = 2_000;

export interface PatroniMember {
  readonly name: string;
  /** 'primary' (GET /primary answered 200), 'replica' (its REST API answered, not the leader), or 'unreachable'. */
  readonly role: 'primary' | 'replica' | 'unreachable';
  /** Patroni's own words, when it answered: its state and timeline. */
  readonly state: string | null;
  readonly timeline: number | null;
  readonly error: string | null;
}

export type ClusterStatusView =
  | { readonly storage: 'sqlite'; readonly singleNode: true; readonly node: string; readonly message: string }
  | {
      readonly storage: 'postgres';
      readonly singleNode: false;
      readonly node: string;
      /** This node's checkpoint signing key, and whether the cluster lists it. */
      readonly signer: { readonly fingerprint: string | null; readonly listed: boolean };
      readonly postgres: { readonly server: string } | { readonly patroni: { readonly primary: string | null; readonly members: readonly PatroniMember[] } };
      readonly masterKeyCheck: { readonly matches: boolean; readonly code: string | null; readonly message: string | null };
      readonly lease: { readonly holder: string; readonly epoch: number; readonly expiresAt: string; readonly valid: boolean; readonly heldByThisNode: boolean } | null;
      readonly signers: ReadonlyArray<{ readonly node: string; readonly fingerprint: string; readonly addedAt: string; readonly thisNode: boolean }>;
      readonly checkedAt: string;
    };

export interface ClusterStatusDeps {
  readonly appliance: Pick<Appliance, 'storage' | 'config' | 'store' | 'keychain' | 'hsm'>;
  readonly probe: RestProbe;
  readonly clock: Clock;
}

export async function clusterStatus({ appliance, probe, clock }: ClusterStatusDeps): Promise<ClusterStatusView> {
  const node = configuredNodeName(appliance.config);
  if (appliance.storage !== 'postgres') {
    return { storage: 'sqlite', singleNode: true, node, message: 'this appliance keeps its keychain in a SQLite file: it is a single node, not part of a cluster (storage = postgres and cluster join make one: docs/cluster/one-appliance.md, docs/cluster/join.md)' };
  }
  const { keychain, store } = appliance;
  // Authenticated reads first: a list or lease that fails its MAC is the answer (INTEGRITY_FAILURE).
  const signers = keychain.auditSigners();
  const lease = keychain.readSchedulerLease();
  const hsm = await appliance.hsm();
  const fingerprint = await hsm.signingPublicKey().then(publicKeyFingerprint, () => null);
  // A token without the version the check value names (another node rotated the master key) will not unseal this
  // node again: not a match, whatever the unwrap at unseal would have said later.
  const masterKeyCheck = await assertMasterKeyCheck(store, hsm, { missingVersion: 'refuse' }).then(
    () => ({ matches: true, code: null, message: null }),
    (err: unknown) => {
      const error = asStrongroomError(err);
      return { matches: false, code: error.code, message: error.message };
    },
  );
  const now = clock.nowMs();
  return {
    storage: 'postgres',
    singleNode: false,
    node,
    signer: { fingerprint, listed: fingerprint !== null && signers.some((s) => s.fingerprint === fingerprint) },
    postgres: await postgresView(postgresTarget(appliance.config.values), probe),
    masterKeyCheck,
    lease: lease === null ? null : { ...lease, valid: Date.parse(lease.expiresAt) > now, heldByThisNode: lease.holder === node },
    signers: signers.map((s) => ({ node: s.node, fingerprint: s.fingerprint, addedAt: s.addedAt, thisNode: s.fingerprint === fingerprint })),
    checkedAt: isoNow(clock),
  };
}

async function postgresView(target: PostgresTarget, probe: RestProbe): Promise<Extract<ClusterStatusView, { storage: 'postgres' }>['postgres']> {
  if (target.kind !== 'patroni') return { server: `${target.host}:${target.port}` };
  const members = await Promise.all(
    target.nodes.map(async (n): Promise<PatroniMember> => {
      const answer = await probe(n.rest, '/primary', PATRONI_PROBE_TIMEOUT_MS);
      if (answer.status === 0) return { name: n.name, role: 'unreachable', state: null, timeline: null, error: answer.error ?? 'no answer' };
      const state = typeof answer.body?.state === 'string' ? answer.body.state : null;
      const timeline = typeof answer.body?.timeline === 'number' ? answer.body.timeline : null;
      return { name: n.name, role: answer.status === 200 ? 'primary' : 'replica', state, timeline, error: null };
    }),
  );
  return { patroni: { primary: members.find((m) => m.role === 'primary')?.name ?? null, members } };
}
