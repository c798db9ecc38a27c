/**
 * The Fresh flag's group commit below the wire (domain/keys/fresh-flag-group.ts),
 * on SoftHSM2 and a SQLite file, with the turn that commits a group held
 * by the test: first servings asked for in one turn wait, unanswered and
 * still fresh in the file, for one group commit; a second first serving of
 * an instance already waiting joins its write; an instance already served
 * answers at once without a write; and one instance that cannot be marked
 * refuses its own waiters only.
 */
import Database from 'better-sqlite3';
import { Keychain } from '../../domain/keychain';
import { RetrievedKey } from '../../domain/views';
import { openUnsealedKeychain, UnsealedKeychain } from '../support/unsealed-keychain';
import { LifecycleService } from '../../domain/lifecycle-service';
import { systemClock } from '../../common/clock';

jest.setTimeout(60_000);

describe('the Fresh flag written a group at a time', () => {
  let dbPath: string;
  let keychain: Keychain;
  /** Flushes asked for and not yet run: the test runs them. */
  const turns: Array<() => void> = [];

  let opened: UnsealedKeychain | undefined;

  beforeAll(async () => {
    opened = await openUnsealedKeychain('sr-fresh-group', { freshFlagTurn: (flush) => turns.push(flush) });
    ({ dbPath, keychain } = opened);
  });

  afterAll(async () => {
    await opened?.close();
  });

  const freshInFile = (instance: string): number => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare('SELECT fresh FROM key_instances WHERE name = ?').pluck().get(instance) as number;
    } finally {
      db.close();
    }
  };

  /** Settles what is already settled, without running a held turn. */
  const settled = async <T>(promise: Promise<T>): Promise<'pending' | 'resolved' | 'rejected'> => {
    const state = await Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
    return state;
  };

  it('answers the first servings of one turn together, once their one commit is done', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `g1/k-${i}`);
    const instances = names.map((fullName) => keychain.createKey({ fullName, algorithm: 'AES-256' }).key.currentInstance as string);
    const asked = names.map((fullName) => keychain.getKeyWhenServed({ fullName }));
    // The same instance again while its write waits: it joins that write.
    const again = keychain.getKeyWhenServed({ fullName: names[0] });
    for (const answer of [...asked, again]) {
      expect(answer).toBeInstanceOf(Promise);
      expect(await settled(answer as Promise<RetrievedKey>)).toBe('pending');
    }
    expect(turns).toHaveLength(1); // one group for the whole turn
    expect(instances.map(freshInFile)).toEqual(instances.map(() => 1));
    turns.shift()!();
    const served = await Promise.all([...asked, again]);
    expect(served.map((s) => s.instance.fresh)).toEqual(served.map(() => false));
    expect(instances.map(freshInFile)).toEqual(instances.map(() => 0));
    for (const s of served) s.material.fill(0);
    // Already served: answered at once, no write, no turn.
    const later = keychain.getKeyWhenServed({ fullName: names[1] });
    expect(later).not.toBeInstanceOf(Promise);
    (later as RetrievedKey).material.fill(0);
    expect(turns).toHaveLength(0);
  });

  it('commits a group without an fsync of its own: each Get answers only once its audit event, appended after, is durable', async () => {
    const fullName = 'g4/fsync';
    keychain.createKey({ fullName, algorithm: 'AES-256' });
    const spy = jest.spyOn(opened!.store, 'transaction');
    const waiting = keychain.getKeyWhenServed({ fullName }) as Promise<RetrievedKey>;
    turns.shift()!();
    (await waiting).material.fill(0);
    expect(spy.mock.calls.map(([, options]) => options)).toEqual([{ batch: true, durableWithAuditEvent: true }]);
    spy.mockRestore();
  });

  it('refuses a first serving whose instance was revoked while it waited for its turn, and serves nothing', async () => {
    const fullName = 'g3/revoked-meanwhile';
    const instance = keychain.createKey({ fullName, algorithm: 'AES-256' }).key.currentInstance as string;
    const waiting = keychain.getKeyWhenServed({ fullName }) as Promise<RetrievedKey>;
    expect(await settled(waiting)).toBe('pending');
    // Committed between the Get's resolve (turn T) and its group's write (turn T+1).
    new LifecycleService(keychain, systemClock).revoke({ fullName }, 'keyCompromise');
    turns.shift()!();
    await expect(waiting).rejects.toMatchObject({ code: 'WRONG_STATE' });
    expect(freshInFile(instance)).toBe(1);
  });

  it('serves a first serving whose instance a rollover deactivated while it waited, as a Get just before the rollover would have', async () => {
    const fullName = 'g5/rolled-meanwhile';
    const instance = keychain.createKey({ fullName, algorithm: 'AES-256' }).key.currentInstance as string;
    const waiting = keychain.getKeyWhenServed({ fullName }) as Promise<RetrievedKey>;
    expect(await settled(waiting)).toBe('pending');
    // A sweep's batch committed between the Get's resolve and its group's write: the instance is Deactivated, not revoked.
    keychain.rollover(fullName);
    turns.shift()!();
    const served = await waiting;
    served.material.fill(0);
    expect(served.instance).toMatchObject({ name: instance, state: 'Deactivated', fresh: false });
    expect(freshInFile(instance)).toBe(0);
  });

  it('still refuses one whose instance was revoked (Deactivated with a reason) while it waited', async () => {
    const fullName = 'g6/revoked-meanwhile';
    const instance = keychain.createKey({ fullName, algorithm: 'AES-256' }).key.currentInstance as string;
    const waiting = keychain.getKeyWhenServed({ fullName }) as Promise<RetrievedKey>;
    expect(await settled(waiting)).toBe('pending');
    new LifecycleService(keychain, systemClock).revoke({ fullName }, 'cessationOfOperation');
    turns.shift()!();
    await expect(waiting).rejects.toMatchObject({ code: 'WRONG_STATE' });
    expect(freshInFile(instance)).toBe(1);
  });

  it('refuses only the waiters of an instance that cannot be marked', async () => {
    const names = ['g2/good', 'g2/gone'];
    const instances = names.map((fullName) => keychain.createKey({ fullName, algorithm: 'AES-256' }).key.currentInstance as string);
    const [good, gone] = names.map((fullName) => keychain.getKeyWhenServed({ fullName }) as Promise<RetrievedKey>);
    // Its row edited in the file before the group commits: it fails its MAC when read again under the write lock.
    const db = new Database(dbPath);
    try {
      db.prepare("UPDATE key_instances SET state = 'Deactivated' WHERE name = ?").run(instances[1]);
    } finally {
      db.close();
    }
    turns.shift()!();
    await expect(gone).rejects.toMatchObject({ code: 'INTEGRITY_FAILURE' });
    const served = await good;
    expect(served.instance.fresh).toBe(false);
    served.material.fill(0);
    expect(freshInFile(instances[0])).toBe(0);
    expect(freshInFile(instances[1])).toBe(1);
  });
});
