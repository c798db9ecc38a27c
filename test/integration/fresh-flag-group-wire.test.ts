/**
 * The Fresh flag's group commit (domain/keys/fresh-flag-group.ts) on a real
 * server, SoftHSM2 token and SQLite file: many first Gets of different
 * instances sent at once (pipelined on one connection and spread over
 * others, so they reach the server in the same turns) are all served, each
 * answer says not fresh, and the file says not fresh for every one. When the
 * group's commit fails (the trust-state write refused, as a full disk or a
 * broken file would refuse it), every waiting Get is refused and no material
 * leaves; the flags stay as they were, and the next Get serves again.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeFrame } from '../../protocol/frame-codec';
import { DecodedResponse } from '../../protocol/response';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

jest.setTimeout(120_000);

const KEYS = 40;
const CONNECTIONS = 4;

/** SQL on the live keychain file (a fault the test injects, not the appliance's own write). */
function onFile<T>(app: TestAppliance, run: (db: Database.Database) => T): T {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    return run(db);
  } finally {
    db.close();
  }
}

function freshFlags(app: TestAppliance, names: readonly string[]): number[] {
  return onFile(app, (db) => names.map((name) => (db.prepare('SELECT fresh FROM key_instances WHERE name = ?').pluck().get(name) as number)));
}

/** Every key's Get, the first `perConnection` of each connection in one TLS write (one turn of the server), answers in order. */
async function getAllAtOnce(connections: readonly RawConnection[], names: readonly string[]): Promise<DecodedResponse[]> {
  const share = Math.ceil(names.length / connections.length);
  const answers = await Promise.all(
    connections.map(async (connection, c) => {
      const mine = names.slice(c * share, (c + 1) * share);
      const frames = mine.map((name, i) => encodeFrame(Buffer.from(JSON.stringify({ id: i + 1, op: 'Get', args: { name } }))));
      connection.sendBytes(Buffer.concat(frames));
      const out: DecodedResponse[] = [];
      for (let i = 0; i < mine.length; i++) out.push(await connection.next());
      return out;
    }),
  );
  return answers.flat();
}

describe('first Gets of many fresh instances at once', () => {
  let app: TestAppliance;
  let reader: Credentials;
  let keyNames: string[];
  let connections: RawConnection[];

  beforeEach(async () => {
    app = await startTestAppliance();
    reader = app.issue('group-app', 'app');
    const officer = await app.connect(app.officer);
    keyNames = Array.from({ length: KEYS }, (_, i) => `grp/k-${i}`);
    for (const name of keyNames) expect((await officer.request('Create', { name, algorithm: 'AES-256' })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', { client: 'group-app', pattern: 'grp/*', permissions: ['get'] });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
    connections = await Promise.all(Array.from({ length: CONNECTIONS }, () => app.connect(reader)));
  });

  afterEach(async () => {
    for (const connection of connections ?? []) connection.destroy();
    await app.stop();
  });

  const instanceNames = (): string[] =>
    onFile(app, (db) => keyNames.map((name) => db.prepare("SELECT i.name FROM key_instances i JOIN keys k ON k.current_instance_id = i.id WHERE k.namespace = 'grp' AND k.name = ?").pluck().get(name.slice(4)) as string));

  it('serves every one, each answer and each row not fresh', async () => {
    const instances = instanceNames();
    expect(freshFlags(app, instances)).toEqual(instances.map(() => 1));
    const answers = await getAllAtOnce(connections, keyNames);
    expect(answers).toHaveLength(KEYS);
    for (const answer of answers) {
      expect(answer.error).toBeUndefined();
      const result = answer.result as { instance: { name: string; fresh: boolean }; material: string };
      expect(result.instance.fresh).toBe(false);
      expect(Buffer.from(result.material, 'base64')).toHaveLength(32);
    }
    expect(new Set(answers.map((a) => (a.result as { instance: { name: string } }).instance.name))).toEqual(new Set(instances));
    expect(freshFlags(app, instances)).toEqual(instances.map(() => 0));
  });

  it('refuses every waiting Get, with no material, when the group cannot commit; the next Get serves', async () => {
    const instances = instanceNames();
    // The trust-state write of the group's commit (domain/trust/) fails: the whole transaction is undone.
    onFile(app, (db) => {
      db.exec("CREATE TRIGGER refuse_trust_update BEFORE UPDATE ON trust_state BEGIN SELECT RAISE(ABORT, 'injected: the disk refuses'); END");
      db.exec("CREATE TRIGGER refuse_trust_insert BEFORE INSERT ON trust_state BEGIN SELECT RAISE(ABORT, 'injected: the disk refuses'); END");
    });
    const refused = await getAllAtOnce(connections, keyNames);
    expect(refused).toHaveLength(KEYS);
    for (const answer of refused) {
      expect(answer.result).toBeUndefined();
      expect(answer.error?.code).toBe('STORAGE_ERROR');
      expect(JSON.stringify(answer)).not.toMatch(/material/);
    }
    expect(freshFlags(app, instances)).toEqual(instances.map(() => 1));

    onFile(app, (db) => db.exec('DROP TRIGGER refuse_trust_update; DROP TRIGGER refuse_trust_insert'));
    const again = await connections[0].request('Get', { name: keyNames[0] });
    expect(again.error).toBeUndefined();
    expect((again.result as { instance: { fresh: boolean } }).instance.fresh).toBe(false);
    expect(freshFlags(app, instances.slice(0, 1))).toEqual([0]);
  });
});
