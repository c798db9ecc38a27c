/**
 * Local mode is audited: commands run on the data folder's keychain (no
 * server) go through the same dispatcher as the wire, as the local operator
 * (an officer named after the OS account), and leave the same operation
 * events in the chain, refusals included (a key get is refused locally: dual
 * control); when the trail cannot be written the command fails and its
 * result is withheld.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { assertCliBuilt, cli } from '../support/cli-runner';

describe('local-mode CLI commands in the audit trail', () => {
  let dir: string;
  let data: string;
  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-local-audit-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records create, rollover, a refused get, a missing key and a key show under the local operator', () => {
    expect(cli(['--data', data, '--json', 'key', 'create', 'ops/db']).status).toBe(0);
    expect(cli(['--data', data, '--json', 'key', 'rollover', 'ops/db']).status).toBe(0);
    const refused = cli(['--data', data, '--json', 'key', 'get', 'ops/db']);
    expect(refused.json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
    expect(cli(['--data', data, '--json', 'key', 'show', 'ops/missing']).status).toBe(3);

    expect(cli(['--data', data, '--json', 'key', 'show', 'ops/db']).status).toBe(0);

    // The local operator goes through the dispatcher: its events are the wire's operation events, from source `local`.
    const tail = cli(['--data', data, '--json', 'audit', 'tail', '-n', '10']).json as Array<Record<string, any>>;
    const local = tail.filter((e) => e.source === 'local' && e.type === 'operation');
    expect(local.map((e) => [e.type, e.operation, e.key, e.result])).toEqual([
      ['operation', 'Create', 'ops/db', 'ok'],
      ['operation', 'ReKey', 'ops/db', 'ok'],
      ['operation', 'Get', 'ops/db', 'DUAL_CONTROL_LOCAL_MODE'],
      ['operation', 'GetAttributes', 'ops/missing', 'KEY_NOT_FOUND'],
      ['operation', 'GetAttributes', 'ops/db', 'ok'],
    ]);
    expect(local[0].identity).toMatchObject({ role: 'officer', name: expect.stringMatching(/^local:/), fingerprint256: '' });
    expect(cli(['--data', data, '--json', 'audit', 'verify']).json.ok).toBe(true);
  });

  it('fails closed: when the trail refuses writes, a local command fails and its result is withheld', () => {
    const raw = new Database(join(data, 'keychain.db'));
    raw.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;");
    raw.close();
    const refused = cli(['--data', data, '--json', 'key', 'show', 'ops/db']);
    expect(refused.status).toBe(8);
    expect(refused.json.error.code).toBe('AUDIT_UNAVAILABLE');
    expect(refused.json.key).toBeUndefined();
    const again = new Database(join(data, 'keychain.db'));
    again.exec('DROP TRIGGER refuse_audit');
    again.close();
  });
});
