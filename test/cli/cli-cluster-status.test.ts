/**
 * `strongroom cluster status` end to end, as the operator runs it, on a
 * SQLite keychain (a real file, the demo SoftHSM2 token): it answers plainly
 * that the appliance is a single node, in text and in --json, exit 0; the
 * request went through the dispatcher (its event is in the trail, by the
 * local operator); --help teaches each line and the exit codes. (The
 * PostgreSQL answer, with a second node, the lease and the signers:
 * test/integration/two-appliances-on-postgres.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli } from '../support/cli-runner';

describe('strongroom cluster status on a single appliance', () => {
  let dir: string;
  let data: string;
  const env = { STRONGROOM_NODE_NAME: 'solo-1' };

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cluster-status-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers that it is a single node, with its name (--json), exit 0', () => {
    const run = cli(['--data', data, '--json', 'cluster', 'status'], env);
    expect(run.status).toBe(0);
    expect(run.json).toEqual({ storage: 'sqlite', singleNode: true, node: 'solo-1', message: expect.stringContaining('single node') });
  });

  it('says so to a human', () => {
    const run = cli(['--data', data, 'cluster', 'status'], env);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Node solo-1: a single appliance (storage = sqlite), not part of a cluster');
  });

  it('went through the dispatcher: the trail records ClusterStatus by the local operator', () => {
    const run = cli(['--data', data, '--json', 'audit', 'search', '--operation', 'ClusterStatus']);
    expect(run.status).toBe(0);
    const events = (run.json.events as Array<{ event: { operation: string; result: string; source: string } }>).map((e) => e.event);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.operation === 'ClusterStatus' && e.result === 'ok')).toBe(true);
  });

  it('refuses a node_name that is not one, INVALID_ARGUMENT (exit 2)', () => {
    const run = cli(['--data', data, '--json', 'cluster', 'status'], { STRONGROOM_NODE_NAME: 'no spaces here' });
    expect(run.json).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(run.status).toBe(2);
  });

  it('teaches in --help: each line, that it only reads, the exit codes, examples', () => {
    const run = cli(['cluster', 'status', '--help']);
    expect(run.status).toBe(0);
    for (const phrase of ['scheduler lease', 'audit signers', 'GET /primary', 'MASTER_KEY_MISMATCH', 'INTEGRITY_FAILURE', 'changes nothing', 'strongroom --server 127.0.0.1:5700 cluster status --json']) expect(run.stdout).toContain(phrase);
  });
});
