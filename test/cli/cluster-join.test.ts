/**
 * `strongroom cluster join` as the operator runs it: on a SQLite keychain
 * (the default storage) it is refused NOT_ON_SQLITE, exit 4, with a --json
 * error document, before anything is opened: the data folder stays as it
 * was. A bad --node is INVALID_ARGUMENT. (The join itself, on PostgreSQL with
 * real tokens: test/integration/two-appliances-on-postgres.test.ts.)
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli } from '../support/cli-runner';

describe('strongroom cluster join', () => {
  let dataDir: string;

  beforeAll(() => assertCliBuilt());
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'strongroom-join-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a SQLite keychain with NOT_ON_SQLITE (exit 4) and creates nothing in the data folder', () => {
    const run = cli(['--data', dataDir, '--json', 'cluster', 'join', '--node', 'node-b']);
    expect(run.status).toBe(4);
    expect(run.json).toMatchObject({ error: { code: 'NOT_ON_SQLITE' } });
    expect(run.json.error.message).toContain('storage = postgres');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('says so to a human on stderr', () => {
    const run = cli(['--data', dataDir, 'cluster', 'join']);
    expect(run.status).toBe(4);
    expect(run.stderr).toContain('error [NOT_ON_SQLITE]');
  });

  it('refuses a node name that is not one (INVALID_ARGUMENT, exit 2) before anything else', () => {
    const run = cli(['--data', dataDir, '--json', 'cluster', 'join', '--node', 'no spaces/or slashes'], { STRONGROOM_STORAGE: 'postgres', STRONGROOM_CLUSTER_DESTROY: 'logical', STRONGROOM_POSTGRES_SERVER: '127.0.0.1:1' });
    expect(run.json).toMatchObject({ error: { code: 'INVALID_ARGUMENT', details: { option: '--node' } } });
    expect(run.status).toBe(2);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('teaches in --help: the order of the checks, the exit codes, an example', () => {
    const run = cli(['cluster', 'join', '--help']);
    expect(run.status).toBe(0);
    for (const phrase of ['MASTER_KEY_MISMATCH', 'NOT_ON_SQLITE', 'audit-signer-added', 'share-master-key.sh', '--node', 'strongroom cluster join --node node-b --json']) expect(run.stdout).toContain(phrase);
  });
});
