/**
 * The approval service's rules on the in-memory store (unit tests; the real
 * server is in test/server/approvals*.test.ts): digests, quorum settings, an
 * operation that finishes asynchronously (master-key rotation will), a run
 * interrupted by a restart, a tampered stored request, a failing operation.
 */
import { createHash } from 'node:crypto';
import { ManualClock } from '../../common/clock';
import { approvalDigest, canonicalJson } from '../../domain/approvals/approval-digest';
import { ApprovalService } from '../../domain/approvals/approval-service';
import { parseApprovalTtl, parseQuorumSetting } from '../../domain/approvals/quorum-settings';
import { ApprovalLiveEvent } from '../../domain/events/event-bus';
import { ApprovalRecord } from '../../storage/approval-store';
import { MemoryStore } from '../../storage/memory-store';
import { codeOf } from '../support/error-code';

const officer = (name: string, groups: string[] = []) => ({ name, role: 'officer', groups });

function makeService(execute: (record: ApprovalRecord) => unknown, store = new MemoryStore(), clock = new ManualClock(Date.UTC(2026, 0, 1))) {
  const events: ApprovalLiveEvent[] = [];
  const audits: string[] = [];
  let n = 0;
  const service = new ApprovalService({
    approvals: store.approvals,
    transaction: (fn) => store.transaction(fn),
    clock,
    newId: () => `req-${++n}`,
    ttlMs: 3_600_000,
    maxOpenPerRequester: 5,
    defaultQuorums: parseQuorumSetting('2, master-key-rotation=3'),
    execute,
    publish: (e) => events.push(e),
    audit: (_r, action) => {
      audits.push(action);
    },
    target: () => ({ key: null, namespace: null }),
  });
  service.start();
  return { service, store, events, audits, clock };
}

describe('approval digests and settings', () => {
  it('encodes canonically (sorted keys at every depth) and refuses binary', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
    expect(codeOf(() => canonicalJson({ material: Buffer.from('k') }))).toBe('INVALID_ARGUMENT');
    // A validated string map (custom attributes) has no prototype: it is plain JSON all the same.
    expect(canonicalJson({ attributes: Object.assign(Object.create(null) as object, { b: '2', a: '1' }) })).toBe('{"attributes":{"a":"1","b":"2"}}');
    expect(codeOf(() => canonicalJson({ n: Number.NaN }))).toBe('INVALID_ARGUMENT');
  });

  it('changes the digest when any part of the request changes', () => {
    const base = { id: 'r', operation: 'Destroy', args: '{"name":"a/b"}', requester: 'alice', dualControlClass: 'key-destroy', createdAt: '2026-01-01T00:00:00.000Z' };
    const digest = approvalDigest(base);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(approvalDigest({ ...base, args: '{ "name" : "a/b" }' })).toBe(digest); // same JSON, same digest
    for (const change of [{ id: 's' }, { operation: 'Get' }, { args: '{"name":"a/c"}' }, { requester: 'bob' }, { dualControlClass: 'key-export' }, { createdAt: '2026-01-01T00:00:00.001Z' }]) {
      expect(approvalDigest({ ...base, ...change })).not.toBe(digest);
    }
  });

  it('covers the key binding, and leaves the digest of an unbound request (stored before bindings) as it was', () => {
    const base = { id: 'r', operation: 'Get', args: '{"name":"lab/x"}', requester: 'alice', dualControlClass: 'key-export', createdAt: '2026-01-01T00:00:00.000Z' };
    // The v1 formula, written out: an unbound request's digest must not move under an upgrade.
    const v1 = createHash('sha256').update('strongroom-approval-v1\n{"args":{"name":"lab/x"},"class":"key-export","createdAt":"2026-01-01T00:00:00.000Z","id":"r","operation":"Get","requester":"alice"}').digest('hex');
    expect(approvalDigest(base)).toBe(v1);
    expect(approvalDigest({ ...base, binding: null })).toBe(v1);
    const bound = approvalDigest({ ...base, binding: '{"instance":"i1","keyId":"k1","name":"lab/test-key"}' });
    expect(bound).not.toBe(v1);
    for (const other of ['{"instance":"i2","keyId":"k1","name":"lab/test-key"}', '{"instance":"i1","keyId":"k2","name":"lab/test-key"}', '{"instance":"i1","keyId":"k1","name":"hr/payroll"}']) {
      expect(approvalDigest({ ...base, binding: other })).not.toBe(bound);
    }
  });

  it('parses quorums and the TTL, refusing nonsense with CONFIG_INVALID', () => {
    expect(parseQuorumSetting('1').get('key-destroy')).toBe(1);
    const mixed = parseQuorumSetting('3, key-export=2');
    expect([mixed.get('key-destroy'), mixed.get('key-export'), mixed.get('restore')]).toEqual([3, 2, 3]);
    expect(parseQuorumSetting('client-revoke=4').get('key-destroy')).toBe(2);
    for (const bad of ['0', '17', 'key-nuke=2', 'key-destroy=2, 3', 'key-destroy=x']) expect(codeOf(() => parseQuorumSetting(bad))).toBe('CONFIG_INVALID');
    expect(parseApprovalTtl('PT24H')).toBe(86_400_000);
    expect(parseApprovalTtl('P1DT30M')).toBe(86_400_000 + 1_800_000);
    for (const bad of ['24h', 'P', 'PT', 'PT0M', 'P31D']) expect(codeOf(() => parseApprovalTtl(bad))).toBe('CONFIG_INVALID');
  });
});

describe('ApprovalService', () => {
  /** auditWithin: the trail is a list appended inside the store's transaction; `failOn` makes the append of that action throw. */
  function withinService(failOn: string | null) {
    const store = new MemoryStore();
    const inTransaction: string[] = [];
    const published: string[] = [];
    const events: string[] = [];
    let n = 0;
    const service = new ApprovalService({
      approvals: store.approvals,
      transaction: (fn) => store.transaction(fn),
      clock: new ManualClock(Date.UTC(2026, 0, 1)),
      newId: () => `req-${++n}`,
      ttlMs: 3_600_000,
      maxOpenPerRequester: 5,
      defaultQuorums: parseQuorumSetting('2'),
      execute: () => ({ done: true }),
      publish: (e) => events.push(e.action),
      audit: () => {
        throw new Error('audit is not used when auditWithin is given');
      },
      auditWithin: (_record, action) => {
        if (action === failOn) throw new Error('trail unwritable');
        inTransaction.push(action);
        return () => published.push(action);
      },
      target: () => ({ key: null, namespace: null }),
    });
    service.start();
    return { service, store, inTransaction, published, events };
  }

  it('with auditWithin, appends each change\'s events inside its transaction and publishes them after the commit, nothing to wait for', () => {
    const { service, inTransaction, published, events } = withinService(null);
    const record = service.request({ operation: 'Destroy', args: { name: 'a/b' }, dualControlClass: 'key-destroy', requester: officer('alice') });
    service.approve(record.id, officer('bob'), record.digest);
    service.approve(record.id, officer('carol'), record.digest);
    expect(inTransaction).toEqual(['requested', 'approved', 'approved', 'executed']);
    expect(published).toEqual(inTransaction);
    expect(events).toEqual(inTransaction);
    expect(service.takeAudits()).toEqual([]);
  });

  it('with auditWithin, undoes a vote whose event cannot be appended, and tells nobody of it', () => {
    const { service, inTransaction, published, events } = withinService('approved');
    const record = service.request({ operation: 'Destroy', args: { name: 'a/b' }, dualControlClass: 'key-destroy', requester: officer('alice') });
    expect(() => service.approve(record.id, officer('bob'), record.digest)).toThrow('trail unwritable');
    expect(service.get(record.id)).toMatchObject({ state: 'pending', approvals: 0 });
    expect([inTransaction, published, events]).toEqual([['requested'], ['requested'], ['requested']]);
  });

  it('seeds the configured quorums once, then keeps the stored ones', () => {
    const { service, store } = makeService(() => ({}));
    expect(service.quorum('master-key-rotation')).toBe(3);
    service.setQuorum('key-destroy', 4, 'alice');
    service.start();
    expect(store.approvals.getQuorum('key-destroy')?.required).toBe(4);
  });

  it('runs an operation marked master-key-rotation that finishes asynchronously, once, after three approvals', async () => {
    let runs = 0;
    let release: (value: unknown) => void = () => undefined;
    const { service, events } = makeService(() => {
      runs++;
      return new Promise((resolve) => (release = resolve));
    });
    const record = service.request({ operation: 'MasterKeyRotate', args: {}, dualControlClass: 'master-key-rotation', requester: officer('alice') });
    expect(record.required).toBe(3);
    service.approve(record.id, officer('bob'), record.digest);
    service.approve(record.id, officer('carol'), record.digest);
    const settling = service.approve(record.id, officer('dave'), record.digest);
    expect(service.get(record.id).state).toBe('executing');
    expect(codeOf(() => service.approve(record.id, officer('erin'), record.digest))).toBe('APPROVAL_NOT_PENDING');
    release({ version: 2 });
    await expect(settling).resolves.toMatchObject({ state: 'executed', result: { version: 2 } });
    expect(runs).toBe(1);
    expect(events.map((e) => e.action)).toEqual(['requested', 'approved', 'approved', 'approved', 'executed']);
  });

  it('marks a run a restart interrupted as failed, never runs it again', () => {
    const store = new MemoryStore();
    let runs = 0;
    const first = makeService(() => (runs++, new Promise(() => undefined)), store);
    const record = first.service.request({ operation: 'MasterKeyRotate', args: {}, dualControlClass: 'key-destroy', requester: officer('alice') });
    first.service.approve(record.id, officer('bob'), record.digest);
    void first.service.approve(record.id, officer('carol'), record.digest);
    const second = makeService(() => (runs++, {}), store);
    expect(second.service.get(record.id)).toMatchObject({ state: 'failed', error: { code: 'INTERNAL_ERROR' } });
    expect(runs).toBe(1);
  });

  it('stores the arguments an operation gives for its id (a key import\'s sealed material), hides the sealed field from views, runs with it, and erases it once the request ended', () => {
    const seen: string[] = [];
    const { service, store } = makeService((record) => seen.push(record.args));
    const stored = (request: { id: string; requester: string }) => ({ name: 'a/k', kcv: 'ABCDEF0123', sealedMaterial: { sealVersion: 1, sealed: `sealed-for-${request.id}-${request.requester}` } });
    const ran = service.request({ operation: 'Register', args: {}, storedArgs: stored, dualControlClass: 'key-import', requester: officer('alice') });
    expect(JSON.parse(ran.args)).toMatchObject({ sealedMaterial: { sealed: `sealed-for-${ran.id}-alice` } });
    expect(service.get(ran.id).args).toEqual({ name: 'a/k', kcv: 'ABCDEF0123' });
    expect(service.list()[0].args).toEqual({ name: 'a/k', kcv: 'ABCDEF0123' });
    service.approve(ran.id, officer('bob'), ran.digest);
    expect(service.approve(ran.id, officer('carol'), ran.digest)).toMatchObject({ state: 'executed' });
    expect(seen).toEqual([ran.args]);
    expect(JSON.parse(store.approvals.getApproval(ran.id)!.args)).toEqual({ name: 'a/k', kcv: 'ABCDEF0123' });
    for (const end of [(id: string) => service.deny(id, officer('bob'), 'no'), (id: string) => service.cancel(id, officer('alice'))]) {
      const ended = service.request({ operation: 'Register', args: {}, storedArgs: stored, dualControlClass: 'key-import', requester: officer('alice') });
      end(ended.id);
      expect(JSON.parse(store.approvals.getApproval(ended.id)!.args)).toEqual({ name: 'a/k', kcv: 'ABCDEF0123' });
    }
  });

  it('erases the sealed field of an expired request', () => {
    const { service, store, clock } = makeService(() => ({}));
    const record = service.request({ operation: 'Register', args: {}, storedArgs: () => ({ name: 'a/k', sealedMaterial: { sealVersion: 1, sealed: 'x' } }), dualControlClass: 'key-import', requester: officer('alice') });
    clock.advance(3_600_001);
    expect(service.get(record.id).state).toBe('expired');
    expect(JSON.parse(store.approvals.getApproval(record.id)!.args)).toEqual({ name: 'a/k' });
  });

  it('keeps a failing operation as failed with its error, and undoes its partial writes', () => {
    const { service, store } = makeService(() => {
      store.approvals.putQuorum({ dualControlClass: 'restore', required: 9, updatedAt: 'x', updatedBy: 'partial write' });
      throw Object.assign(new Error('no such key'), { code: 'KEY_NOT_FOUND' });
    });
    const record = service.request({ operation: 'Destroy', args: { name: 'a/b' }, dualControlClass: 'key-destroy', requester: officer('alice') });
    service.approve(record.id, officer('bob'), record.digest);
    expect(service.approve(record.id, officer('carol'), record.digest)).toMatchObject({ state: 'failed', error: { code: 'KEY_NOT_FOUND' } });
    expect(store.approvals.getQuorum('restore')?.required).toBe(2);
  });

  it('refuses to run a stored request whose arguments were altered after the approvals began', () => {
    const store = new MemoryStore();
    let runs = 0;
    const { service } = makeService(() => (runs++, {}), store);
    const record = service.request({ operation: 'Destroy', args: { name: 'a/b' }, dualControlClass: 'key-destroy', requester: officer('alice') });
    service.approve(record.id, officer('bob'), record.digest);
    // Someone with the database file swaps the target (the memory store's maps stand in for the file).
    const requests = (store.approvals as unknown as { requests: Map<string, ApprovalRecord> }).requests;
    requests.set(record.id, { ...(requests.get(record.id) as ApprovalRecord), args: '{"name":"a/other"}' });
    expect(codeOf(() => service.approve(record.id, officer('carol'), record.digest))).toBe('INTEGRITY_FAILURE');
    expect(runs).toBe(0);
    expect(service.get(record.id)).toMatchObject({ state: 'pending', approvals: 1 });
  });

  it('expires on the clock and publishes it once', () => {
    const { service, events, clock } = makeService(() => ({}));
    const record = service.request({ operation: 'Destroy', args: { name: 'a/b' }, dualControlClass: 'key-destroy', requester: officer('alice') });
    clock.advance(3_600_000);
    expect(codeOf(() => service.approve(record.id, officer('bob'), record.digest))).toBe('APPROVAL_EXPIRED');
    expect(codeOf(() => service.cancel(record.id, officer('alice')))).toBe('APPROVAL_EXPIRED');
    service.list();
    expect(events.filter((e) => e.action === 'expired')).toHaveLength(1);
  });
});
