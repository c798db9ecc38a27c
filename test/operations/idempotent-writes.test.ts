/**
 * Idempotent writes in the dispatcher (operations/idempotency.ts) on one
 * real appliance (SoftHSM2, SQLite, the audit pipeline), requests handed to
 * its dispatcher as a transport would: a repeat of (client, key) answers
 * the stored result and changes nothing, its outcome event marked
 * custom.idempotentReplay = "true"; the key with other arguments or another
 * operation is IDEMPOTENCY_KEY_REUSED; another client's same key is its
 * own; two runs of one key at once run once. Then the attacks, with the
 * database file (the trust journal emptied after, so only the row's own MAC
 * stands in the way): a planted record and a rewritten one are
 * INTEGRITY_FAILURE, and nothing is served from them.
 */
import Database from 'better-sqlite3';
import { setting } from '../../common/config';
import { AuditEvent } from '../../domain/audit/audit-event';
import { ClientIdentity } from '../../domain/policy/identity';
import { Request } from '../../operations/request';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { rejectionCode } from '../support/error-code';

describe('idempotent writes through the dispatcher', () => {
  let app: TestAppliance;
  let officer: ClientIdentity;
  let other: ClientIdentity;
  let next = 0;

  const identityOf = (name: string): ClientIdentity => {
    const record = app.appliance.keychain.directory.getClientByName(name)!;
    return { name: record.name, role: record.role, groups: record.groups, fingerprint256: record.fingerprint256, subject: `CN=${record.name}` };
  };

  beforeAll(async () => {
    app = await startTestAppliance();
    officer = identityOf('test-officer');
    app.issue('second-officer', 'officer');
    other = identityOf('second-officer');
  });
  afterAll(async () => {
    await app.stop();
  });

  /** Dispatches as the TLS transport does: the answer once its audit events are durable. */
  async function send(op: string, args: Record<string, unknown>, idempotencyKey?: string, identity = officer): Promise<unknown> {
    const request = { id: `r-${++next}`, op, args, meta: {}, identity, source: { transport: 'tls', address: '127.0.0.1' }, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) } as unknown as Request;
    const audits: Array<Promise<void>> = [];
    try {
      return await app.server.dispatcher.dispatch(request, audits);
    } finally {
      await Promise.allSettled(audits);
    }
  }
  const keyExists = (fullName: string): boolean => {
    try {
      app.appliance.keychain.describeKey(fullName);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'KEY_NOT_FOUND') return false;
      throw err;
    }
  };
  function operationEvents(operation: string, key: string): AuditEvent[] {
    const audit = app.appliance.store.audit;
    const head = audit.auditHead()!;
    return audit
      .readAuditRecords(1, head.seq)
      .map((r) => JSON.parse(r.event) as AuditEvent)
      .filter((e) => e.type === 'operation' && e.operation === operation && e.key === key);
  }

  it('answers a repeat from the stored result: the change made once, the repeat audited as a replay', async () => {
    const first = await send('Create', { name: 'idem/alpha', description: 'first' }, 'key-alpha-0001');
    const again = await send('Create', { description: 'first', name: 'idem/alpha' }, 'key-alpha-0001');
    expect(again).toEqual(first);
    expect(app.appliance.keychain.describeKey('idem/alpha').instances).toHaveLength(1);
    const events = operationEvents('Create', 'idem/alpha');
    expect(events.map((e) => [e.result, e.custom?.idempotentReplay ?? null])).toEqual([
      ['ok', null],
      ['ok', 'true'],
    ]);
    // A write with another key is a new write: the name is taken.
    expect(await rejectionCode(() => send('Create', { name: 'idem/alpha', description: 'first' }, 'key-alpha-0002'))).toBe('KEY_EXISTS');
  });

  it('replays a lifecycle change too: a second Revoke under the key is not WRONG_STATE but the first answer', async () => {
    await send('Create', { name: 'idem/beta' });
    const first = await send('Revoke', { name: 'idem/beta', reason: 'superseded' }, 'key-beta-revoke');
    expect(await send('Revoke', { name: 'idem/beta', reason: 'superseded' }, 'key-beta-revoke')).toEqual(first);
    expect(await rejectionCode(() => send('Revoke', { name: 'idem/beta', reason: 'superseded' }))).toBe('WRONG_STATE');
  });

  it('refuses the key with other arguments or another operation (IDEMPOTENCY_KEY_REUSED), doing nothing', async () => {
    await send('Create', { name: 'idem/gamma' }, 'key-gamma-0001');
    expect(await rejectionCode(() => send('Create', { name: 'idem/gamma-2' }, 'key-gamma-0001'))).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(keyExists('idem/gamma-2')).toBe(false);
    expect(await rejectionCode(() => send('AliasSet', { alias: 'idem/gamma-alias', name: 'idem/gamma' }, 'key-gamma-0001'))).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(keyExists('idem/gamma-alias')).toBe(false);
    const refused = operationEvents('Create', 'idem/gamma-2');
    expect(refused.map((e) => e.result)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it("keeps each client's keys apart: another client's same key runs its own write", async () => {
    await send('Create', { name: 'idem/delta' }, 'shared-key-0001');
    await send('Create', { name: 'idem/delta-other' }, 'shared-key-0001', other);
    expect(keyExists('idem/delta-other')).toBe(true);
    expect(await rejectionCode(() => send('Create', { name: 'idem/delta-other' }, 'shared-key-0001'))).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('runs two requests of one key sent at once only once: the second answers what the first did', async () => {
    const [a, b] = await Promise.all([send('Create', { name: 'idem/epsilon' }, 'key-race-0001'), send('Create', { name: 'idem/epsilon' }, 'key-race-0001')]);
    expect(b).toEqual(a);
    expect(operationEvents('Create', 'idem/epsilon').map((e) => [e.result, e.custom?.idempotentReplay ?? null])).toEqual([
      ['ok', null],
      ['ok', 'true'],
    ]);
  });

  it('records no failure: a write refused under a key may be retried under it', async () => {
    await send('Create', { name: 'idem/zeta' });
    expect(await rejectionCode(() => send('Create', { name: 'idem/zeta' }, 'key-zeta-0001'))).toBe('KEY_EXISTS');
    expect(app.appliance.store.idempotency.readIdempotencyRecord('test-officer', 'key-zeta-0001')).toBeNull();
  });

  it('refuses a key on a write that is always dual-controlled (Destroy, ClientRevoke): it could never be recorded, and a resend would store a second approval request', async () => {
    await send('Create', { name: 'idem/theta' });
    await send('Revoke', { name: 'idem/theta', reason: 'superseded' });
    const pendingBefore = app.server.services.approvals.list({ states: ['pending'] }).length;
    expect(await rejectionCode(() => send('Destroy', { name: 'idem/theta' }, 'key-theta-destroy'))).toBe('INVALID_REQUEST');
    expect(await rejectionCode(() => send('Destroy', { name: 'idem/theta' }, 'key-theta-destroy'))).toBe('INVALID_REQUEST');
    app.issue('idem-doomed', 'app');
    expect(await rejectionCode(() => send('ClientRevoke', { name: 'idem-doomed' }, 'key-doomed-revoke'))).toBe('INVALID_REQUEST');
    expect(app.server.services.approvals.list({ states: ['pending'] })).toHaveLength(pendingBefore);
  });

  describe('attacks with the database file', () => {
    /** What someone holding the file can do: any SQL, then empty the trust journal so the next write's journal check finds nothing. */
    const tamper = (sql: string, ...params: unknown[]): void => {
      const db = new Database(setting(app.appliance.config, 'keychain_path'));
      try {
        db.prepare(sql).run(...params);
        db.prepare('DELETE FROM trust_journal').run();
      } finally {
        db.close();
      }
    };

    it('a record planted for a key the client will send is INTEGRITY_FAILURE: nothing served, nothing created', async () => {
      const forged = JSON.stringify({ key: { fullName: 'idem/planted' }, instances: [] });
      tamper(
        "INSERT INTO idempotency_records (client_id, idempotency_key, operation, args_digest, result, created_at, row_mac) VALUES ('test-officer', 'key-planted-01', 'Create', randomblob(32), ?, '2026-01-01T00:00:00.000Z', randomblob(32))",
        forged,
      );
      expect(await rejectionCode(() => send('Create', { name: 'idem/planted' }, 'key-planted-01'))).toBe('INTEGRITY_FAILURE');
      expect(keyExists('idem/planted')).toBe(false);
    });

    it("a genuine record rewritten (another answer, the MAC kept) is INTEGRITY_FAILURE, never the rewritten answer", async () => {
      await send('Create', { name: 'idem/eta' }, 'key-eta-00001');
      tamper("UPDATE idempotency_records SET result = json_set(result, '$.key.fullName', 'idem/elsewhere') WHERE idempotency_key = 'key-eta-00001'");
      expect(await rejectionCode(() => send('Create', { name: 'idem/eta' }, 'key-eta-00001'))).toBe('INTEGRITY_FAILURE');
    });
  });
});
