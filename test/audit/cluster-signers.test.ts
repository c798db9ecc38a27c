/**
 * The cluster's audit signers (domain/audit/cluster-signers.ts): node B
 * accepts node A's checkpoints, and the other way round, once each key is on
 * the keychain's authenticated list, from its `audit-signer-added` event on.
 * The attacks come first: a checkpoint signed by a key not on the list, a
 * list row planted in the database without a valid MAC, a listed key's
 * checkpoint from before its addition. Real SQLite file, software HSMs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../common/clock';
import { silentLogger } from '../../common/logger';
import { AuditCheckpointer, TrailIntegrityFailure } from '../../domain/audit/audit-checkpointer';
import { publicKeyFingerprint, signCheckpoint } from '../../domain/audit/audit-checkpoint';
import { AuditEvent } from '../../domain/audit/audit-event';
import { verifyTrail } from '../../domain/audit/audit-verify';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { authenticatedSigners, enrolAuditSigner } from '../../domain/audit/cluster-signers';
import { deriveTrustKeys, TrustKeys } from '../../domain/trust/trust-keys';
import { TrustLedger } from '../../domain/trust/trust-ledger';
import { SoftHsm } from '../../hsm/soft-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { codeOf, NO_ERROR } from '../support/error-code';
import { ManualTimers } from '../support/manual-timers';

const KEYCHAIN_ID = 'kc-cluster';
const operator = { name: 'root', subject: 'uid=0' };

describe('audit checkpoints trusted across the nodes of a cluster', () => {
  let dir: string;
  let store: KeychainStore;
  let keys: TrustKeys;
  let nodeA: SoftHsm;
  let nodeB: SoftHsm;
  let stranger: SoftHsm;
  let pemA: string;
  let pemB: string;
  const clock = new ManualClock(Date.parse('2026-12-07T00:00:00Z'));
  let n = 0;
  const stamper = { clock, newId: () => `id-${++n}` };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-signers-'));
    store = openSqliteStore(join(dir, 'keychain.db'));
    keys = deriveTrustKeys(KEYCHAIN_ID, randomBytes(32));
    [nodeA, nodeB, stranger] = [new SoftHsm(), new SoftHsm(), new SoftHsm()];
    pemA = await nodeA.ensureSigningKey();
    pemB = await nodeB.ensureSigningKey();
    await stranger.ensureSigningKey();
  });
  afterEach(async () => {
    store.close();
    await Promise.all([nodeA.close(), nodeB.close(), stranger.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (): AuditEvent => ({ time: '2026-12-07T00:00:00.000Z', eventId: `e-${++n}`, type: 'operation', identity: null, endUser: null, purpose: null, source: null, operation: 'Get', key: null, instance: null, result: 'ok', requestId: null, custom: {} });
  const operations = async (count: number): Promise<void> => {
    const writer = new AuditWriter(store.audit);
    for (let i = 0; i < count; i++) await writer.record(event());
  };
  const checkpoint = async (hsm: SoftHsm): Promise<void> => store.audit.appendAuditCheckpoint(await signCheckpoint(hsm, KEYCHAIN_ID, store.audit.auditHead()!, clock));
  const enrol = (pem: string, node: string) => enrolAuditSigner(store, keys, stamper, { publicKey: pem, node, operator });
  const listed = (): string[] => authenticatedSigners(store.audit, keys).map((s) => s.publicKey);
  const verifyOn = (trustedPem: string) => verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem: trustedPem, clusterSigners: listed() });
  /** B's checkpointer at start, as the server runs it: it loads the newest stored checkpoint and must authenticate it before signing. */
  const startCheckpointerOn = (hsm: SoftHsm, failures: TrailIntegrityFailure[]) => {
    const checkpointer = new AuditCheckpointer({
      audit: store.audit, hsm: async () => hsm, keychainId: KEYCHAIN_ID, clock, timers: new ManualTimers(clock), intervalMs: 60_000, log: silentLogger,
      clusterSigners: listed,
      onIntegrityFailure: async (failure) => void failures.push(failure),
    });
    checkpointer.open();
    return checkpointer;
  };
  /** A's trail, A enrolled before its first checkpoint (as init on PostgreSQL does), then B joined and signed. */
  const twoNodeTrail = async (): Promise<void> => {
    enrol(pemA, 'a');
    await operations(3);
    await checkpoint(nodeA);
    enrol(pemB, 'b');
    await operations(2);
    await checkpoint(nodeB);
    await operations(1);
    await checkpoint(nodeA);
  };

  it('refuses a checkpoint signed by a key not on the list, in AuditVerify and at the checkpointer\'s start', async () => {
    enrol(pemA, 'a');
    await operations(3);
    await checkpoint(stranger);
    const verdict = verifyOn(pemA);
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 4 });
    expect(verdict.reason).toContain(publicKeyFingerprint(await stranger.ensureSigningKey()));
    await operations(1);
    const failures: TrailIntegrityFailure[] = [];
    expect(await startCheckpointerOn(nodeA, failures).checkpoint()).toBeNull();
    expect(failures).toHaveLength(1);
    expect(failures[0].reason).toContain('does not carry this HSM\'s signature');
  });

  it('refuses a signer row planted in the database without a valid MAC: the list fails closed, and a checkpoint it would vouch for is refused', async () => {
    enrol(pemA, 'a');
    const strangerPem = await stranger.ensureSigningKey();
    store.audit.addAuditSigner({ fingerprint: publicKeyFingerprint(strangerPem), publicKey: strangerPem, node: 'x', addedAt: '2026-12-07T00:00:00.000Z', addedBy: 'root', rowMac: randomBytes(32) });
    expect(codeOf(() => listed())).toBe('INTEGRITY_FAILURE');
    await operations(2);
    await checkpoint(stranger);
    await operations(1);
    const failures: TrailIntegrityFailure[] = [];
    expect(await startCheckpointerOn(nodeA, failures).checkpoint()).toBeNull();
    expect(failures[0]?.reason).toContain('signer list failed authentication');
  });

  it('refuses a row whose MAC is another signer\'s (a key swapped under a valid MAC)', async () => {
    enrol(pemA, 'a');
    const [row] = store.audit.listAuditSigners();
    const strangerPem = await stranger.ensureSigningKey();
    store.audit.addAuditSigner({ ...row, fingerprint: publicKeyFingerprint(strangerPem), publicKey: strangerPem });
    expect(codeOf(() => listed())).toBe('INTEGRITY_FAILURE');
  });

  it('refuses a listed key\'s checkpoint made before its audit-signer-added event', async () => {
    enrol(pemA, 'a');
    await operations(2);
    await checkpoint(nodeB);
    enrol(pemB, 'b');
    await operations(1);
    await checkpoint(nodeA);
    const verdict = verifyOn(pemA);
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(verdict.reason).toContain('before the trail records its addition');
  });

  it('two enrolled nodes: AuditVerify passes on either node\'s key, and each checkpointer signs after the other\'s checkpoint', async () => {
    await twoNodeTrail();
    expect(verifyOn(pemA)).toMatchObject({ ok: true, checkpoints: 3 });
    expect(verifyOn(pemB)).toMatchObject({ ok: true, checkpoints: 3 });
    await operations(1);
    const failures: TrailIntegrityFailure[] = [];
    // The newest checkpoint is A's: B must accept it before signing its own.
    expect((await startCheckpointerOn(nodeB, failures).checkpoint())?.seq).toBe(store.audit.auditHead()!.seq);
    expect(failures).toEqual([]);
    expect(verifyOn(pemA)).toMatchObject({ ok: true, checkpoints: 4 });
  });

  it('a running checkpointer extends a newer checkpoint of another listed node, and refuses a stranger\'s', async () => {
    enrol(pemA, 'a');
    enrol(pemB, 'b');
    await operations(2);
    const failures: TrailIntegrityFailure[] = [];
    const onA = startCheckpointerOn(nodeA, failures);
    expect(await onA.checkpoint()).not.toBeNull();
    await operations(1);
    await checkpoint(nodeB);
    await operations(1);
    expect((await onA.checkpoint())?.seq).toBe(store.audit.auditHead()!.seq);
    expect(failures).toEqual([]);
    await operations(1);
    await checkpoint(stranger);
    await operations(1);
    expect(await onA.checkpoint()).toBeNull();
    expect(failures).toHaveLength(1);
    expect(failures[0].reason).toContain('does not carry this HSM\'s signature');
  });

  it('enrolment writes the row and its event together, once: a second run changes nothing', async () => {
    const first = enrol(pemB, 'b');
    expect(first).toMatchObject({ fingerprint: publicKeyFingerprint(pemB), added: true, eventSeq: 1 });
    const [record] = store.audit.readAuditRecords(1, 10);
    expect(JSON.parse(record.event)).toMatchObject({ type: 'audit-signer-added', result: 'ok', source: 'local', custom: { fingerprint: publicKeyFingerprint(pemB), node: 'b' } });
    expect(enrol(pemB, 'b')).toMatchObject({ added: false, eventSeq: null });
    expect(store.audit.auditHead()?.seq).toBe(1);
    expect(listed()).toEqual([pemB]);
  });

  it('a signer row is folded into the trust set-hash in its own transaction: the full check passes after it, and fails once the row is deleted behind the appliance', () => {
    const ledger = new TrustLedger(store.trust!, () => keys, clock);
    ledger.attach();
    ledger.openAtUnseal(keys);
    enrol(pemB, 'b');
    expect(store.trust!.journalLength()).toBe(0);
    expect(codeOf(() => ledger.check())).toBe(NO_ERROR);
    const db = new Database(join(dir, 'keychain.db'));
    try {
      db.exec('DROP TRIGGER audit_signers_trust_delete; DELETE FROM audit_signers');
    } finally {
      db.close();
    }
    expect(codeOf(() => ledger.check())).toBe('INTEGRITY_FAILURE');
  });

  it('a sealed keychain (no trust keys) neither reads nor adds signers', () => {
    expect(codeOf(() => authenticatedSigners(store.audit, null))).toBe('SEALED');
    expect(codeOf(() => enrolAuditSigner(store, null, stamper, { publicKey: pemB, node: 'b', operator }))).toBe('SEALED');
    expect(store.audit.listAuditSigners()).toEqual([]);
  });
});
