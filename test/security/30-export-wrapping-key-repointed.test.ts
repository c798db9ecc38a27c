/**
 * Attack 30: a wrapped export re-pointed after its approval (BYOK, issue 14).
 *
 * The security review once exported a key by re-pointing an alias after the
 * approval (attack 1). A wrapped export has two references to move: the key
 * exported and the key it is wrapped under. Here an officer asks to export
 * `xfer/secret` wrapped under `xfer/transport`, an alias of the transport
 * key `xfer/kek` that only the receiving appliance should be able to open;
 * approvers are shown xfer/kek bound by id, name and instance. After the
 * quorum the officer re-points the alias at `lab/own-kek`, a key whose
 * material they can Get, and collects: had the wrap followed the alias, the
 * officer would unwrap xfer/secret alone. Also: the exported key's alias
 * re-pointed, and the stored request's RSA public key swapped in the
 * database for the attacker's (the database is untrusted).
 *
 * The rule: Export binds the exported key (approvalBinding) and the wrapping
 * key (`wrapBinding`, or the RSA key's SPKI fingerprint, both under the
 * digest the approvers signed); at collection both are resolved again and a
 * different answer is APPROVAL_TARGET_CHANGED, with nothing exported, the
 * request `failed` and the trail naming what was approved.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ApprovalDetails, required } from '../support/approval-required';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { rsaPair, viewOf } from '../support/byok-support';
import { editKeychainFile, storedArgs } from '../support/key-import-support';

interface StoredEvent {
  type: string;
  operation: string;
  key: string | null;
  result: string;
  custom: Record<string, string>;
}

describe('attack 30: a wrapped export re-pointed after its approval', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  let first: RawConnection;
  let second: RawConnection;

  const aliasTo = async (alias: string, target: string): Promise<void> => {
    expect((await officer.request('AliasSet', { alias, name: target })).error).toBeUndefined();
  };
  const approveAll = async (asked: ApprovalDetails): Promise<void> => {
    for (const approver of [first, second]) expect((await approver.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error).toBeUndefined();
  };
  const trailOf = (id: string): StoredEvent[] => {
    const db = new Database(join(t.dataDir, 'keychain.db'), { readonly: true });
    try {
      return (db.prepare('SELECT event FROM audit_events ORDER BY seq').all() as Array<{ event: string }>)
        .map((row) => JSON.parse(row.event) as StoredEvent)
        .filter((e) => e.custom?.approvalRequest === id);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    t = await startTestAppliance();
    officer = await t.connect(t.officer);
    first = await t.connect(t.approvers[0]);
    second = await t.connect(t.approvers[1]);
    for (const name of ['xfer/secret', 'xfer/other', 'xfer/kek', 'lab/own-kek']) expect((await officer.request('Create', { name })).error).toBeUndefined();
    // The officer may wrap under both keys, and Get lab/own-kek (a lab key of theirs): grants other officers approved.
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'test-officer', pattern: 'xfer/kek', permissions: ['encrypt'] }))).state).toBe('executed');
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'test-officer', pattern: 'lab/*', permissions: ['encrypt', 'get'] }))).state).toBe('executed');
  });
  afterAll(async () => t.stop());
  beforeEach(async () => {
    await aliasTo('xfer/transport', 'xfer/kek');
    await aliasTo('xfer/current', 'xfer/secret');
  });

  it('refuses the collect when the wrapping key\'s alias was re-pointed after the quorum, and exports nothing', async () => {
    const asked = required(await officer.request('Export', { name: 'xfer/secret', wrapMethod: 'AES-KWP', wrapKey: 'xfer/transport' }));
    expect((await viewOf(first, asked.requestId)).args.wrapBinding).toMatchObject({ name: 'xfer/kek' });
    await approveAll(asked);
    await aliasTo('xfer/transport', 'lab/own-kek');

    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.result).toBeUndefined();
    expect(collected.error?.code).toBe('APPROVAL_TARGET_CHANGED');
    expect(collected.error?.message).toMatch(/wrap under xfer\/kek/);
    expect(await viewOf(first, asked.requestId)).toMatchObject({ state: 'failed', error: { code: 'APPROVAL_TARGET_CHANGED' } });
    // Spent: no second try once the alias is put back.
    await aliasTo('xfer/transport', 'xfer/kek');
    expect((await officer.request('ApprovalCollect', { id: asked.requestId })).error?.code).toBe('APPROVAL_NOT_PENDING');

    const carriedOut = trailOf(asked.requestId).find((e) => e.type === 'approved-operation');
    expect(carriedOut).toMatchObject({ operation: 'Export', key: 'xfer/secret', result: 'APPROVAL_TARGET_CHANGED' });
    expect(carriedOut?.custom).toMatchObject({ wrapMethod: 'AES-KWP', wrapKey: 'xfer/kek' });
  });

  it('refuses the collect when the exported key\'s alias was re-pointed after the quorum', async () => {
    const asked = required(await officer.request('Export', { name: 'xfer/current', wrapMethod: 'AES-KWP', wrapKey: 'xfer/kek' }));
    await approveAll(asked);
    await aliasTo('xfer/current', 'xfer/other');
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.result).toBeUndefined();
    expect(collected.error?.code).toBe('APPROVAL_TARGET_CHANGED');
  });

  it('wraps under the bound key when nothing moved (the same request shape succeeds)', async () => {
    const asked = required(await officer.request('Export', { name: 'xfer/current', wrapMethod: 'AES-KWP', wrapKey: 'xfer/transport' }));
    await approveAll(asked);
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.error).toBeUndefined();
    expect(collected.result).toMatchObject({ key: { fullName: 'xfer/secret' }, wrappingKey: { name: 'xfer/kek' } });
  });

  it('refuses the collect when the stored RSA public key was swapped in the database for the attacker\'s', async () => {
    const receiver = rsaPair();
    const attacker = rsaPair();
    const asked = required(await officer.request('Export', { name: 'xfer/secret', wrapMethod: 'RSA-OAEP-SHA256', wrapPublicKey: receiver.publicPem }));
    expect((await viewOf(first, asked.requestId)).args.wrapFingerprint).toBe(receiver.fingerprint);
    await approveAll(asked);
    const args = { ...storedArgs(t, asked.requestId), wrapPublicKey: attacker.publicPem, wrapFingerprint: attacker.fingerprint };
    editKeychainFile(t, (db) => db.prepare('UPDATE approval_requests SET args = ? WHERE id = ?').run(JSON.stringify(args), asked.requestId));
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.result).toBeUndefined();
    expect(collected.error?.code).toBe('INTEGRITY_FAILURE');
  });
});
