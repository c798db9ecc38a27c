/**
 * The trust ledger (domain/trust/trust-ledger.ts) on a real SQLite file: the
 * journal triggers and the write hooks keep the sealed set-hash in step with
 * every write the appliance makes, and every way of changing the rows from
 * outside (a row written back, a row deleted, a planted journal entry, a
 * tampered state) fails the check with INTEGRITY_FAILURE; a write while
 * sealed is undone. A batch transaction (a sweep's) folds its writes once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { ManualClock } from '../../../common/clock';
import { deriveTrustKeys, TrustKeys } from '../../../domain/trust/trust-keys';
import { TrustLedger } from '../../../domain/trust/trust-ledger';
import { GrantRecord } from '../../../storage/directory-store';
import { KeychainStore } from '../../../storage/keychain-store';
import { openSqliteStore } from '../../../storage/sqlite-store';
import { codeOf } from '../../support/error-code';

const grant = (id: string, mac: Buffer): GrantRecord => ({
  id, subjectKind: 'client', subject: 'app', pattern: 'hr/*', permissions: ['get'], createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'officer', rowMac: mac,
});

describe('the trust ledger on SQLite', () => {
  let dir: string;
  let path: string;
  let store: KeychainStore;
  let keys: TrustKeys | null;
  let ledger: TrustLedger;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trust-ledger-'));
    path = join(dir, 'keychain.db');
    store = openSqliteStore(path);
    keys = deriveTrustKeys('keychain-1', randomBytes(32));
    ledger = new TrustLedger(store.trust!, () => keys, new ManualClock(0));
    ledger.attach();
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sql = (fn: (db: Database.Database) => void): void => {
    const db = new Database(path);
    try {
      fn(db);
    } finally {
      db.close();
    }
  };

  it('establishes a state at the first unseal, then keeps it in step with inserts, updates and deletes (the counter counts writes)', () => {
    expect(ledger.openAtUnseal(keys!)).toMatchObject({ established: true, counter: 0, rows: 0 });
    store.directory.putGrant(grant('g1', randomBytes(32)));
    store.directory.putGrant(grant('g2', randomBytes(32)));
    store.directory.deleteGrant('g1');
    expect(ledger.check()).toEqual({ counter: 3, rows: 1 });
    expect(ledger.openAtUnseal(keys!)).toMatchObject({ established: false, counter: 3 });
  });

  it('finds a row written back with its old MAC, a deleted row and an inserted one, with the triggers dropped first', () => {
    ledger.openAtUnseal(keys!);
    const old = randomBytes(32);
    store.directory.putGrant(grant('g1', old));
    sql((db) => {
      db.exec('DROP TRIGGER grants_trust_delete');
      db.prepare('DELETE FROM grants').run();
    });
    expect(codeOf(() => ledger.check())).toBe('INTEGRITY_FAILURE');
    sql((db) => db.exec('DROP TRIGGER grants_trust_insert'));
    sql((db) => db.prepare("INSERT INTO grants (id, subject_kind, subject, pattern, permissions, created_at, created_by, row_mac) VALUES ('g1', 'client', 'app', 'hr/*', '[\"get\"]', 'x', 'y', ?)").run(old));
    // The original row back exactly as it was: the set is what the state counts again.
    expect(ledger.check().rows).toBe(1);
  });

  it('refuses the next write when the journal holds an entry no write of the appliance made, and undoes that write', () => {
    ledger.openAtUnseal(keys!);
    sql((db) => db.prepare("INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES ('grants', ?, NULL)").run(randomBytes(32)));
    expect(codeOf(() => store.directory.putGrant(grant('g1', randomBytes(32))))).toBe('INTEGRITY_FAILURE');
    expect(store.directory.listGrants()).toEqual([]);
    expect(codeOf(() => ledger.check())).toBe('INTEGRITY_FAILURE');
  });

  it('folds a batch transaction once before its commit: every row counted, a write undone in its savepoint left out, the counter moved once', () => {
    ledger.openAtUnseal(keys!);
    store.transaction(
      () => {
        store.directory.putGrant(grant('g1', randomBytes(32)));
        store.directory.putGrant(grant('g2', randomBytes(32)));
        // The journal holds the batch's own changes until the fold: the next write in the batch is not refused for them.
        expect(store.trust!.journalLength()).toBe(2);
        expect(() =>
          store.transaction(() => {
            store.directory.putGrant(grant('g3', randomBytes(32)));
            throw new Error('this item failed');
          }),
        ).toThrow('this item failed');
        store.directory.deleteGrant('g1');
      },
      { batch: true },
    );
    expect(store.trust!.journalLength()).toBe(0);
    expect(store.directory.listGrants().map((g) => g.id)).toEqual(['g2']);
    expect(ledger.check()).toEqual({ counter: 1, rows: 1 });
  });

  it('refuses a batch when the journal holds an entry no write of the appliance made, and undoes the whole batch', () => {
    ledger.openAtUnseal(keys!);
    sql((db) => db.prepare("INSERT INTO trust_journal (tbl, old_mac, new_mac) VALUES ('grants', ?, NULL)").run(randomBytes(32)));
    expect(codeOf(() => store.transaction(() => store.directory.putGrant(grant('g1', randomBytes(32))), { batch: true }))).toBe('INTEGRITY_FAILURE');
    expect(store.directory.listGrants()).toEqual([]);
    expect(codeOf(() => ledger.check())).toBe('INTEGRITY_FAILURE');
  });

  it('undoes a whole batch whose fold fails (sealed while it ran), and leaves the state as it was', () => {
    ledger.openAtUnseal(keys!);
    expect(
      codeOf(() =>
        store.transaction(
          () => {
            store.directory.putGrant(grant('g1', randomBytes(32)));
            keys = null;
          },
          { batch: true },
        ),
      ),
    ).toBe('SEALED');
    expect(store.directory.listGrants()).toEqual([]);
    expect(store.trust!.journalLength()).toBe(0);
  });

  it('undoes a write to authenticated rows while sealed (SEALED), and leaves the state as it was', () => {
    ledger.openAtUnseal(keys!);
    keys = null;
    expect(codeOf(() => store.directory.putGrant(grant('g1', randomBytes(32))))).toBe('SEALED');
    expect(store.directory.listGrants()).toEqual([]);
    expect(store.trust!.journalLength()).toBe(0);
  });

  it('checks in steps on a snapshot while the appliance goes on writing, and still finds a row changed outside it', async () => {
    ledger.openAtUnseal(keys!);
    for (let i = 0; i < 25; i++) store.directory.putGrant(grant(`g${i}`, randomBytes(32)));
    let writes = 0;
    // Every pause, the appliance writes: the walk sees its snapshot, the writes fold into the live state.
    const writeMeanwhile = async (): Promise<void> => {
      store.directory.putGrant(grant(`during-${writes++}`, randomBytes(32)));
    };
    expect(await ledger.checkInSteps(writeMeanwhile, 5)).toEqual({ counter: 25, rows: 25 });
    expect(writes).toBe(5);
    expect(ledger.check().rows).toBe(30);
    sql((db) => {
      db.exec('DROP TRIGGER grants_trust_delete');
      db.prepare("DELETE FROM grants WHERE id = 'g3'").run();
    });
    await expect(ledger.checkInSteps(async () => undefined, 5)).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
  });

  it('gives no verdict when sealed during the walk', async () => {
    ledger.openAtUnseal(keys!);
    for (let i = 0; i < 10; i++) store.directory.putGrant(grant(`g${i}`, randomBytes(32)));
    const sealMeanwhile = async (): Promise<void> => {
      keys = null;
    };
    expect(await ledger.checkInSteps(sealMeanwhile, 3)).toBeNull();
  });

  it('refuses a state sealed under other keys, one whose counter was edited, and a missing one', () => {
    ledger.openAtUnseal(keys!);
    store.directory.putGrant(grant('g1', randomBytes(32)));
    sql((db) => db.prepare('UPDATE trust_state SET counter = counter + 5').run());
    expect(codeOf(() => ledger.check())).toBe('INTEGRITY_FAILURE');
    sql((db) => db.prepare('UPDATE trust_state SET counter = counter - 5').run());
    expect(ledger.check().counter).toBe(1);
    const other = deriveTrustKeys('keychain-1', randomBytes(32));
    expect(codeOf(() => new TrustLedger(store.trust!, () => other, new ManualClock(0)).check())).toBe('INTEGRITY_FAILURE');
    sql((db) => db.prepare('DELETE FROM trust_state').run());
    expect(codeOf(() => ledger.check())).toBe('INTEGRITY_FAILURE');
  });
});
