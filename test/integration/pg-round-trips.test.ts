/**
 * How many round trips through the synchronous bridge (docs/cluster/bridge.md)
 * one Create, one first Get (it sets the instance's Fresh flag) and one audit
 * group commit cost an appliance serving from PostgreSQL: each is a time the
 * event loop waits and serves nothing, so the count is what bounds Create on
 * the cluster (issue 17, docs/cluster/bridge.md "Round trips per request").
 *
 * Real parts: a throwaway PostgreSQL 15, a SoftHSM2 token, the appliance
 * over mutual TLS; manual timers, so that no background job (change poll,
 * sweeps, checkpoints) adds a round trip inside a measured request. What is
 * counted is every exchange the bridge makes (SyncBridge's one blocking
 * post-and-wait), and the statements each carried. The bounds below are the
 * counts measured (main: Create 24, first Get 21, group commit 4; then
 * Create 11, and 8 once it committed with its event in one transaction).
 * SR_PRINT_ROUND_TRIPS=1 prints each request's list.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { chainEvents } from '../../domain/audit/audit-writer';
import { SyncBridge } from '../../storage/postgres/sync-bridge';
import { RawConnection, resultOf as ok, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { ManualTimers } from '../support/manual-timers';
import { asSuperuser, startTestPostgres, TestPostgres } from '../support/postgres-fixture';
import { auditEvents } from '../storage/audit-append-conformance';

const DATABASE = 'strongroom_round_trips';

interface Step { readonly kind: string; readonly sql?: string }
type Exchange = readonly Step[];

let pg: TestPostgres;
let secrets: string;
let app: TestAppliance;
let recording: Exchange[] | null = null;
let restore: (() => void) | null = null;

/** Every exchange any bridge of this process makes while `recording` is set, as the steps it carried. */
function recordExchanges(): void {
  const proto = SyncBridge.prototype as unknown as { exchange: (req: Step & { steps?: Step[] }, backstopMs: number) => unknown };
  const original = proto.exchange;
  proto.exchange = function (this: unknown, req, backstopMs) {
    recording?.push(req.steps ?? [req]);
    return original.call(this, req, backstopMs);
  };
  restore = () => {
    proto.exchange = original;
  };
}

async function measured(label: string, fn: () => Promise<unknown> | unknown): Promise<Exchange[]> {
  recording = [];
  try {
    await fn();
    return recording;
  } finally {
    const seen = recording;
    recording = null;
    if (process.env.SR_PRINT_ROUND_TRIPS) {
      const lines = seen.map((steps, i) => `${String(i + 1).padStart(3)}. ${steps.map((s) => (s.sql ? s.sql.replace(/\s+/g, ' ').slice(0, 110) : s.kind)).join('\n      + ')}`);
      console.log(`${label}: ${seen.length} exchanges, ${statements(seen)} statements\n${lines.join('\n')}`);
    }
  }
}

const statements = (exchanges: Exchange[]): number => exchanges.reduce((n, steps) => n + steps.length, 0);

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql(`CREATE DATABASE ${DATABASE}`);
  secrets = mkdtempSync(join(tmpdir(), 'strongroom-round-trips-'));
  const passwordFile = join(secrets, 'postgres-password');
  writeFileSync(passwordFile, `${pg.credentials.password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600);
  app = await startTestAppliance(
    { storage: 'postgres', postgres_server: `127.0.0.1:${pg.port}`, postgres_database: DATABASE, postgres_user: pg.credentials.user, postgres_password_file: passwordFile, cluster_destroy: 'logical' },
    { timers: new ManualTimers(new ManualClock(Date.now())) },
  );
  recordExchanges();
}, 180_000);

afterAll(async () => {
  restore?.();
  await app?.stop();
  await pg?.stop();
  if (secrets) rmSync(secrets, { recursive: true, force: true });
}, 60_000);

describe('round trips through the bridge per request, on PostgreSQL', () => {
  let officer: RawConnection;
  let client: RawConnection;

  beforeAll(async () => {
    officer = await app.connect(app.officer);
    // The first request of a connection warms what every later one finds cached.
    await ok(officer, 'Create', { name: 'trips/warm' });
    const approved = await app.approve(await officer.request('PolicyGrant', { group: 'trips', pattern: 'trips/*', permissions: ['get'] }));
    expect(approved.state).toBe('executed');
    client = await app.connect(app.issue('trips-app', 'app', { groups: ['trips'] }));
    await ok(client, 'Get', { name: 'trips/warm' });
  }, 120_000);

  it('Create: one write transaction, its event inside it', async () => {
    let created: unknown;
    const exchanges = await measured('Create', async () => {
      created = await ok(officer, 'Create', { name: 'trips/one' });
    });
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.length).toBeLessThanOrEqual(8);
    // One COMMIT (each waits for the synchronous standby): the change and its event, no group commit of its own.
    expect(exchanges.flat().filter((step) => step.kind === 'commit')).toHaveLength(1);
    // Described from the rows it wrote, not read back: the same description a read of the stored rows gives.
    expect(JSON.parse(JSON.stringify(created))).toEqual(JSON.parse(JSON.stringify(app.appliance.keychain.describeKey('trips/one'))));
  });

  it('Get, first serving of an instance (the Fresh flag is written)', async () => {
    await ok(officer, 'Create', { name: 'trips/two' });
    const exchanges = await measured('Get (first)', () => ok(client, 'Get', { name: 'trips/two' }));
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.length).toBeLessThanOrEqual(10);
  });

  it('a write finding a journal row no write of the appliance made fails closed: INTEGRITY_FAILURE, nothing written (the check rides with its first statement)', async () => {
    const forged = randomBytes(32);
    await asSuperuser(pg, DATABASE, (c) => c.query("INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES ('grants', $1, NULL)", [forged]));
    try {
      const refused = await officer.request('Create', { name: 'trips/forged' });
      expect(refused.error?.code).toBe('INTEGRITY_FAILURE');
      const rows = await asSuperuser(pg, DATABASE, (c) => c.query("SELECT count(*)::int AS n FROM keys WHERE name = 'forged'"));
      expect(rows.rows[0].n).toBe(0);
      // The forged row is still there (nothing folded it in) and the trust state did not move.
      const journal = await asSuperuser(pg, DATABASE, (c) => c.query('SELECT new_mac, old_mac FROM trust_journal'));
      expect(journal.rows).toHaveLength(1);
    } finally {
      await asSuperuser(pg, DATABASE, (c) => c.query('DELETE FROM trust_journal'));
    }
    await ok(officer, 'Create', { name: 'trips/after-forged' });
  });

  it('one audit group commit of several events', async () => {
    const audit = app.appliance.store.audit;
    const exchanges = await measured('audit group commit', () => audit.appendAuditRecordsFromHead((head) => chainEvents(head, auditEvents(0, 5))));
    expect(exchanges.length).toBeLessThanOrEqual(2);
  });
});
