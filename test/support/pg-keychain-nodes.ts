/**
 * Several nodes of one keychain on the throwaway PostgreSQL, in one process:
 * each node its own store connection and Keychain, all opening one SoftHSM2
 * token (the same master key, as every node of a cluster must hold). The
 * suite's PostgreSQL, token and databases are made in beforeAll and removed
 * in afterAll; a test makes a database, opens the first node with
 * `create: true` (it initialises the keychain) and the others on it.
 */
import { Clock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { pgStoreDatabases, PgStoreDatabases } from './pg-store-support';
import { startTestPostgres, TestPostgres } from './postgres-fixture';
import { makeSoftHsmFixture, SoftHsmFixture } from './softhsm-fixture';

export interface KeychainNode {
  readonly store: KeychainStore;
  readonly hsm: HsmPort;
  readonly keychain: Keychain;
}

export interface PgKeychainNodes {
  /** A fresh database for one keychain. */
  database(): string;
  /** A node on `database`, unsealed; `create` initialises the keychain first (the first node). */
  open(database: string, clock: Clock, create: boolean): Promise<KeychainNode>;
  /** Seals and closes each node given (undefined ones skipped), then drops the database. */
  close(database: string, nodes: ReadonlyArray<KeychainNode | undefined>): Promise<void>;
}

/** Registers the suite's set-up and tear-down; call at the top level of a test file. */
export function pgKeychainNodes(databasePrefix: string, tokenLabel: string): PgKeychainNodes {
  let pg: TestPostgres;
  let databases: PgStoreDatabases;
  let token: SoftHsmFixture;

  beforeAll(async () => {
    pg = await startTestPostgres();
    databases = await pgStoreDatabases(pg, databasePrefix);
    token = await makeSoftHsmFixture(tokenLabel);
  }, 180_000);

  afterAll(async () => {
    await token?.cleanup();
    databases?.close();
    await pg?.stop();
  }, 60_000);

  return {
    database: () => databases.create(),
    async open(database, clock, create) {
      const store = databases.open(database, { acceptUnerasedDrops: true });
      const hsm = await token.open();
      if (create) await initializeKeychain(store, hsm, clock, randomIds);
      const keychain = new Keychain({ store, clock, timeZone: 'UTC' });
      await keychain.unseal(hsm);
      return { store, hsm, keychain };
    },
    async close(database, nodes) {
      for (const node of nodes) {
        if (node === undefined) continue;
        node.keychain.seal();
        node.store.close();
        await node.hsm.close();
      }
      databases.drop(database);
    },
  };
}
