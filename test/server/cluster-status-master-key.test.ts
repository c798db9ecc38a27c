/**
 * Unit test of the master key line of `cluster status` (server/cluster/cluster-status.ts)
 * with fake store and HSM: the line is the operator's answer to "will this node unseal
 * with its token?", so it may say "matches" only when the token's master key of the
 * version the check value names was found and gives the stored value.
 */
import { HsmError } from '../../common/errors';
import { clusterStatus, ClusterStatusDeps } from '../../server/cluster/cluster-status';
import { MASTER_KEY_CHECK_NAME } from '../../domain/unseal/master-key-check';
import { HsmSealedSecretRecord } from '../../storage/records';
import { ManualClock } from '../../common/clock';

const STORED_CHECK: HsmSealedSecretRecord = {
  name: MASTER_KEY_CHECK_NAME,
  masterKeyVersion: 2,
  mechanism: 'CKM_AES_KEY_WRAP_KWP',
  wrappedKey: Buffer.alloc(48, 7),
  sealed: Buffer.from('strongroom/master-key-check/v1'),
  createdAt: '2026-01-01T00:00:00.000Z',
};

/** A postgres node whose token answers wrapKey with `wrapKey`, and whose store holds `check`. */
function deps(check: HsmSealedSecretRecord | null, wrapKey: () => Promise<{ wrapped: Buffer }>): ClusterStatusDeps {
  const hsm = {
    wrapKey,
    signingPublicKey: () => Promise.reject(new Error('no signing key in this fake')),
    tokenInfo: () => Promise.resolve({ label: 'fake', serialNumber: '1' }),
  };
  const appliance = {
    storage: 'postgres',
    config: { dataDir: '/nonexistent', configFile: null, values: { node_name: 'n1', postgres_server: '127.0.0.1:5432' }, sources: {} },
    store: { getHsmSealedSecret: (name: string) => (name === MASTER_KEY_CHECK_NAME ? check : null) },
    keychain: { auditSigners: () => [], readSchedulerLease: () => null },
    hsm: () => Promise.resolve(hsm),
  };
  return { appliance: appliance as unknown as ClusterStatusDeps['appliance'], probe: () => Promise.reject(new Error('not probed: postgres_server')), clock: new ManualClock(0) };
}

async function masterKeyLine(d: ClusterStatusDeps): Promise<{ matches: boolean; code: string | null }> {
  const status = await clusterStatus(d);
  if (status.storage !== 'postgres') throw new Error('expected the postgres view');
  return status.masterKeyCheck;
}

describe('cluster status: master key check', () => {
  it('matches when the token gives the stored check value', async () => {
    expect(await masterKeyLine(deps(STORED_CHECK, () => Promise.resolve({ wrapped: Buffer.from(STORED_CHECK.wrappedKey) })))).toMatchObject({ matches: true, code: null });
  });

  it('says MASTER_KEY_MISMATCH when the token holds another key of that version', async () => {
    expect(await masterKeyLine(deps(STORED_CHECK, () => Promise.resolve({ wrapped: Buffer.alloc(48, 9) })))).toMatchObject({ matches: false, code: 'MASTER_KEY_MISMATCH' });
  });

  // Another node rotated the master key (v2) while this node ran unsealed on v1: its token has no v2,
  // so it will not unseal after a restart. The status said "matches" here.
  it('does not say matches when the token lacks the version the check value names', async () => {
    const missing = () => Promise.reject(new HsmError('HSM_MASTER_KEY_MISSING', 'master key version 2 is not in the token'));
    expect(await masterKeyLine(deps(STORED_CHECK, missing))).toMatchObject({ matches: false, code: 'HSM_MASTER_KEY_MISSING' });
  });
});
