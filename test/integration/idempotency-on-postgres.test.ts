/**
 * Idempotent writes across two appliances on one PostgreSQL keychain
 * (issue 17, docs/cluster/idempotent-writes.md), on real parts: the
 * throwaway PostgreSQL 15, one SoftHSM2 token opened by each node (the same
 * master key), each node with its own store connection and Keychain.
 *
 * A retry to the other node is answered from the first node's record. And
 * the race: two nodes' transactions never overlap on PostgreSQL (each write
 * transaction takes the cluster's writer lock at BEGIN), so the second
 * run's lookup, inside its own transaction, sees the first's committed
 * record. Shown by trying node A's run INSIDE node B's open transaction:
 * A cannot begin (in one thread the lock wait ends in a refusal; across
 * processes A would wait), and once B committed, A answers B's record. The
 * insert-conflict path of operations/idempotency.ts is the second line
 * behind that lock.
 */
import { ManualClock } from '../../common/clock';
import { ClientIdentity } from '../../domain/policy/identity';
import { IdempotentWrite } from '../../operations/idempotency';
import { OperationName } from '../../protocol/op-schemas';
import { KeychainNode, pgKeychainNodes } from '../support/pg-keychain-nodes';

const nodes = pgKeychainNodes('idempotency_nodes', 'sr-idem');

const app: ClientIdentity = { name: 'app-1', role: 'app', groups: [], fingerprint256: 'ab', subject: 'CN=app-1' };

describe('idempotent writes on two nodes of one PostgreSQL keychain', () => {
  const clock = new ManualClock(new Date('2026-12-07T09:00:00Z'));
  let database: string;
  let a: KeychainNode;
  let b: KeychainNode;

  beforeEach(async () => {
    database = nodes.database();
    a = await nodes.open(database, clock, true);
    b = await nodes.open(database, clock, false);
  }, 60_000);

  afterEach(() => nodes.close(database, [a, b]));

  const write = (on: KeychainNode, key: string, fullName: string) =>
    IdempotentWrite.of({ op: 'Create' as OperationName, args: { name: fullName }, identity: app, idempotencyKey: key }, on.keychain)!;
  const create = (on: KeychainNode, fullName: string) => () => on.keychain.createKey({ fullName, algorithm: 'AES-256' });
  const keyIdOf = (result: unknown): string => (result as { key: { id: string } }).key.id;

  it("answers a retry sent to the other node from the first node's record, creating nothing", () => {
    const first = write(a, 'retry-key-0001', 'nodes/alpha').run(create(a, 'nodes/alpha'));
    const retry = write(b, 'retry-key-0001', 'nodes/alpha');
    const again = retry.run(create(b, 'nodes/alpha'));
    expect(retry.replayed).toBe(true);
    expect(keyIdOf(again)).toBe(keyIdOf(first));
    expect(b.keychain.describeKey('nodes/alpha').instances).toHaveLength(1);
  });

  it("orders two nodes' runs of one key by the cluster's writer lock: a run cannot begin while the other's is open", () => {
    // B's transaction is open (it found no record); A's run of the same key cannot even begin until B ends
    // (55P03 here, where the two share one thread; across processes A waits), so A then reads B's record.
    const bWrite = write(b, 'race-key-0001', 'nodes/beta');
    let aDuring: unknown = null;
    const bResult = bWrite.run(() => {
      try {
        write(a, 'race-key-0001', 'nodes/beta').run(create(a, 'nodes/beta'));
      } catch (err) {
        aDuring = (err as { code?: string }).code;
      }
      return create(b, 'nodes/beta')();
    });
    expect(aDuring).toBe('STORAGE_BUSY');
    const aWrite = write(a, 'race-key-0001', 'nodes/beta');
    expect(keyIdOf(aWrite.run(create(a, 'nodes/beta')))).toBe(keyIdOf(bResult));
    expect(aWrite.replayed).toBe(true);
    expect(a.keychain.describeKey('nodes/beta').instances).toHaveLength(1);
  }, 60_000);
});
