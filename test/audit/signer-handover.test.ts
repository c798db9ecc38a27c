/**
 * A trail restored onto another appliance changes signer: its checkpoints
 * of the first appliance's key verify under the second's only through the
 * restore's `backup-restored` event naming that key, covered by a
 * checkpoint of the trusted key (domain/audit/signer-handover.ts). Without
 * the event, with it appended after the last trusted checkpoint, naming
 * another key, or with a failed result, the trail fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { AuditEvent } from '../../domain/audit/audit-event';
import { publicKeyFingerprint, signCheckpoint } from '../../domain/audit/audit-checkpoint';
import { verifyTrail } from '../../domain/audit/audit-verify';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { SoftHsm } from '../../hsm/soft-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';

const KEYCHAIN_ID = 'kc-1';

function event(n: number, type = 'operation', custom: Record<string, string> = {}, result = 'ok'): AuditEvent {
  return { time: '2026-12-07T00:00:00.000Z', eventId: `e-${n}`, type, identity: null, endUser: null, purpose: null, source: null, operation: type === 'operation' ? 'Get' : null, key: null, instance: null, result, requestId: null, custom };
}

describe('signer handover after a restore onto another appliance', () => {
  let dir: string;
  let store: KeychainStore;
  let first: SoftHsm;
  let second: SoftHsm;
  let secondPem: string;
  let firstFingerprint: string;
  const clock = new ManualClock(Date.parse('2026-12-07T00:00:00Z'));
  let n = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-handover-'));
    store = openSqliteStore(join(dir, 'keychain.db'));
    first = new SoftHsm();
    second = new SoftHsm();
    firstFingerprint = publicKeyFingerprint(await first.ensureSigningKey());
    secondPem = await second.ensureSigningKey();
    n = 0;
  });
  afterEach(async () => {
    store.close();
    await first.close();
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const record = async (...events: AuditEvent[]): Promise<void> => {
    const writer = new AuditWriter(store.audit);
    for (const e of events) await writer.record(e);
  };
  const operations = (count: number): AuditEvent[] => Array.from({ length: count }, () => event(++n));
  const checkpoint = async (hsm: SoftHsm): Promise<void> => store.audit.appendAuditCheckpoint(await signCheckpoint(hsm, KEYCHAIN_ID, store.audit.auditHead()!, clock));
  const restored = (fingerprint: string, result = 'ok'): AuditEvent => event(++n, 'backup-restored', { name: 'backup-x.srbk', signerFingerprint: fingerprint }, result);
  /** The first appliance's trail as a backup carries it: events and two of its checkpoints. */
  const firstAppliancesTrail = async (): Promise<void> => {
    await record(...operations(3));
    await checkpoint(first);
    await record(...operations(2));
    await checkpoint(first);
  };
  const verify = () => verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem: secondPem });

  it('accepts the first key\'s checkpoints once the restore event naming it is covered by a checkpoint of the trusted key', async () => {
    await firstAppliancesTrail();
    await record(restored(firstFingerprint), ...operations(2));
    await checkpoint(second);
    expect(verify()).toMatchObject({ ok: true, checkpoints: 3, lastCheckpointSeq: 8, unsignedTail: 0 });
  });

  it('refuses them without a restore event: another appliance\'s trail', async () => {
    await firstAppliancesTrail();
    await record(...operations(2));
    await checkpoint(second);
    const verdict = verify();
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(verdict.reason).toContain('the checkpoints at events 3 to 5 have a bad signature');
  });

  it('refuses a restore event appended after the last trusted checkpoint: nothing the trusted key signed vouches for it', async () => {
    await firstAppliancesTrail();
    await record(...operations(1));
    await checkpoint(second);
    await record(restored(firstFingerprint));
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('refuses a restore event naming another key, or one that failed', async () => {
    await firstAppliancesTrail();
    await record(restored(publicKeyFingerprint(secondPem)), restored(firstFingerprint, 'INTEGRITY_FAILURE'));
    await checkpoint(second);
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('refuses a first-key checkpoint signed after the handover: the event vouches only for what came before it', async () => {
    await firstAppliancesTrail();
    await record(restored(firstFingerprint), ...operations(1));
    await checkpoint(second);
    await record(...operations(1));
    await checkpoint(first);
    await record(...operations(1));
    await checkpoint(second);
    expect(verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('still refuses a forged checkpoint at once, whatever a restore event says', async () => {
    await record(...operations(3));
    const genuine = await signCheckpoint(first, KEYCHAIN_ID, store.audit.auditHead()!, clock);
    store.audit.appendAuditCheckpoint({ ...genuine, signature: Buffer.alloc(genuine.signature.length, 7) });
    await record(restored(firstFingerprint));
    await checkpoint(second);
    const verdict = verify();
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(verdict.reason).toContain('bad signature');
  });

  it('chains: A\'s trail restored on B, B\'s restored on C, verifies under C', async () => {
    const third = new SoftHsm();
    try {
      const thirdPem = await third.ensureSigningKey();
      await firstAppliancesTrail();
      await record(restored(firstFingerprint), ...operations(1));
      await checkpoint(second);
      await record(restored(publicKeyFingerprint(secondPem)), ...operations(1));
      await checkpoint(third);
      expect(verifyTrail(store.audit, { keychainId: KEYCHAIN_ID, publicKeyPem: thirdPem })).toMatchObject({ ok: true, checkpoints: 4 });
    } finally {
      await third.close();
    }
  });
});
