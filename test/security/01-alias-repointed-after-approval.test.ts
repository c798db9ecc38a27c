/**
 * Attack 1 of the trust review (issue 12): alias re-pointing after approval.
 *
 * An officer asks for an export of `lab/x`, an alias of a test key; other
 * officers approve; the requester re-points the alias at `hr/payroll` (an
 * officer's AliasSet, no approval needed) and collects. Before requests were
 * bound to what they resolve to, the collect returned hr/payroll's material
 * and the trail logged an export of lab/x. Now a request stores the key id,
 * canonical name and instance the reference resolved to when it was made,
 * approvers are shown them, and at execution a changed resolution is refused
 * with APPROVAL_TARGET_CHANGED, nothing run, and the trail records the
 * refusal. Runs over real mutual TLS against a SoftHSM2 token and SQLite.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { approvalDigest } from '../../domain/approvals/approval-digest';
import { DecodedResponse } from '../../protocol/response';
import { ApprovalDetails, required } from '../support/approval-required';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

interface Binding {
  keyId: string;
  name: string;
  instance: string;
}

interface StoredEvent {
  type: string;
  operation: string;
  key: string | null;
  instance: string | null;
  result: string;
  custom: Record<string, string>;
}

describe('attack 1: alias re-pointed after approval', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let first: RawConnection;
  let second: RawConnection;
  let testKey: { id: string; currentInstance: string };

  const aliasTo = async (target: string): Promise<void> => {
    expect((await officer.request('AliasSet', { alias: 'lab/x', name: target })).error).toBeUndefined();
  };
  const approveBy = async (connection: RawConnection, asked: ApprovalDetails): Promise<DecodedResponse> => {
    const answer = await connection.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
    expect(answer.error).toBeUndefined();
    return answer;
  };
  const shown = async (id: string): Promise<{ state: string; binding: Binding | null; error: { code: string } | null }> =>
    ((await first.request('ApprovalGet', { id })).result as { request: { state: string; binding: Binding | null; error: { code: string } | null } }).request;
  /** Every audit event about request `id` in the keychain file (the collect's own event is durable before its answer). */
  const trailOf = (id: string): StoredEvent[] => {
    const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
    try {
      return (db.prepare('SELECT event FROM audit_events ORDER BY seq').all() as Array<{ event: string }>)
        .map((row) => JSON.parse(row.event) as StoredEvent)
        .filter((e) => e.custom?.approvalRequest === id);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    app = await startTestAppliance();
    officer = await app.connect(app.officer);
    first = await app.connect(app.approvers[0]);
    second = await app.connect(app.approvers[1]);
    const created = await officer.request('Create', { name: 'lab/test-key' });
    testKey = (created.result as { key: { id: string; currentInstance: string } }).key;
    expect((await officer.request('Create', { name: 'hr/payroll' })).error).toBeUndefined();
  });
  afterAll(async () => app.stop());
  beforeEach(async () => aliasTo('lab/test-key'));

  it('refuses the export when the alias is re-pointed between the first and the last approval, and records the refusal', async () => {
    const asked = required(await officer.request('Get', { name: 'lab/x' }));
    await approveBy(first, asked);
    await aliasTo('hr/payroll');
    await approveBy(second, asked);

    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.result).toBeUndefined();
    expect(collected.error?.code).toBe('APPROVAL_TARGET_CHANGED');
    expect(await shown(asked.requestId)).toMatchObject({ state: 'failed', error: { code: 'APPROVAL_TARGET_CHANGED' } });

    const trail = trailOf(asked.requestId);
    const carriedOut = trail.find((e) => e.type === 'approved-operation');
    // The trail names the key that was approved (not the alias typed), and the refusal.
    expect(carriedOut).toMatchObject({ operation: 'Get', key: 'lab/test-key', instance: testKey.currentInstance, result: 'APPROVAL_TARGET_CHANGED' });
    expect(carriedOut?.custom.requestedName).toBe('lab/x');
    expect(trail.some((e) => e.key === 'hr/payroll')).toBe(false);
  });

  it('shows approvers the key the alias resolved to when the request was made, and refuses it once the alias moved before any vote', async () => {
    const asked = required(await officer.request('Get', { name: 'lab/x' }));
    await aliasTo('hr/payroll');
    const view = await shown(asked.requestId);
    expect(view.binding).toEqual({ keyId: testKey.id, name: 'lab/test-key', instance: testKey.currentInstance });
    await approveBy(first, asked);
    await approveBy(second, asked);
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.result).toBeUndefined();
    expect(collected.error?.code).toBe('APPROVAL_TARGET_CHANGED');
  });

  it('exports the bound key when nothing moved, and stores the binding with the request', async () => {
    const asked = required(await officer.request('Get', { name: 'lab/x' }));
    const db = new Database(join(app.dataDir, 'keychain.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT binding FROM approval_requests WHERE id = ?').get(asked.requestId) as { binding: string };
      expect(JSON.parse(row.binding)).toEqual({ keyId: testKey.id, name: 'lab/test-key', instance: testKey.currentInstance });
    } finally {
      db.close();
    }
    const approved = await app.approve({ id: 1, error: { code: 'APPROVAL_REQUIRED', message: '', details: asked as never } });
    expect(approved.state).toBe('approved');
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    // Unchanged resolution: the bound key's material, and nothing of hr/payroll's.
    const material = Buffer.from((collected.result as { material: string }).material, 'base64');
    const expected = app.appliance.keychain.getKey({ fullName: 'lab/test-key', instance: testKey.currentInstance });
    const payroll = app.appliance.keychain.getKey({ fullName: 'hr/payroll' });
    try {
      expect(material.equals(expected.material)).toBe(true);
      expect(material.equals(payroll.material)).toBe(false);
    } finally {
      expected.material.fill(0);
      payroll.material.fill(0);
    }
  });

  it('exports the approved instance after a rollover: the request binds the instance current when it was made', async () => {
    const asked = required(await officer.request('Get', { name: 'lab/x' }));
    const before = (await shown(asked.requestId)).binding as Binding;
    const rolled = await officer.request('ReKey', { name: 'lab/test-key' });
    expect((rolled.result as { key: { currentInstance: string } }).key.currentInstance).not.toBe(before.instance);
    await approveBy(first, asked);
    await approveBy(second, asked);
    const collected = (await officer.request('ApprovalCollect', { id: asked.requestId })).result as { instance: { name: string } };
    expect(collected.instance.name).toBe(before.instance);
    testKey = { ...testKey, currentInstance: (rolled.result as { key: { currentInstance: string } }).key.currentInstance };
  });

  it('refuses a Destroy whose alias is re-pointed before the last vote (it runs at that vote), and destroys nothing', async () => {
    for (const name of ['lab/old', 'hr/archive']) {
      expect((await officer.request('Create', { name })).error).toBeUndefined();
      expect((await officer.request('Revoke', { name, reason: 'superseded' })).error).toBeUndefined();
    }
    await aliasTo('lab/old');
    const asked = required(await officer.request('Destroy', { name: 'lab/x' }));
    await approveBy(first, asked);
    await aliasTo('hr/archive');
    const last = ((await approveBy(second, asked)).result as { request: { state: string; error: { code: string } | null } }).request;
    expect(last).toMatchObject({ state: 'failed', error: { code: 'APPROVAL_TARGET_CHANGED' } });
    const archive = (await officer.request('GetAttributes', { name: 'hr/archive' })).result as { instances: Array<{ state: string; destroyAt: string | null }> };
    expect(archive.instances.map((i) => [i.state, i.destroyAt])).toEqual([['Deactivated', null]]);
  });

  it('refuses a request whose binding was stripped from the file (digest re-derived, as the unkeyed digest allows): what was approved cannot be checked', async () => {
    const asked = required(await officer.request('Get', { name: 'lab/x' }));
    const db = new Database(join(app.dataDir, 'keychain.db'));
    let digest: string;
    try {
      const row = db.prepare('SELECT * FROM approval_requests WHERE id = ?').get(asked.requestId) as { id: string; operation: string; args: string; requester: string; dual_control_class: string; created_at: string };
      digest = approvalDigest({ id: row.id, operation: row.operation, args: row.args, requester: row.requester, dualControlClass: row.dual_control_class, createdAt: row.created_at });
      db.prepare('UPDATE approval_requests SET binding = NULL, digest = ? WHERE id = ?').run(digest, asked.requestId);
    } finally {
      db.close();
    }
    // The request's row MAC (domain/trust/) covers its binding and digest: the edited row is refused wherever it is read.
    expect((await first.request('ApprovalGet', { id: asked.requestId })).error?.code).toBe('INTEGRITY_FAILURE');
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest })).error?.code).toBe('INTEGRITY_FAILURE');
    const collected = await officer.request('ApprovalCollect', { id: asked.requestId });
    expect(collected.result).toBeUndefined();
    expect(collected.error?.code).toBe('INTEGRITY_FAILURE');
  });
});
