/**
 * The compiled `strongroom` CLI, run as a user would: a real process, a
 * temporary data folder, a SoftHSM2 demo token made by `init --demo-token`.
 * Asserts on exit codes and the JSON documents, never on prose.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/cli/main.js');

interface Run {
  status: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function cli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: Buffer } = {}): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    input: options.input,
    encoding: 'buffer',
    timeout: 60_000,
  });
  const stdout = result.stdout.toString('utf8');
  let json: unknown = null;
  try {
    json = JSON.parse(stdout);
  } catch {
    /* not JSON: human output */
  }
  return { status: result.status ?? -1, stdout, stderr: result.stderr.toString('utf8'), json };
}

describe('strongroom CLI', () => {
  let dir: string;
  let data: string;
  const inData = (...args: string[]): Run => cli(['--data', data, ...args]);

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\` (scripts/test.sh does)`);
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-'));
    data = join(dir, 'data');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('teaches with --help, with examples, and exits 0', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/Getting started/);
    for (const sub of [['init'], ['key', 'create'], ['key', 'get'], ['key', 'rollover'], ['status']]) {
      const help = cli([...sub, '--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/Usage: strongroom/);
    }
    expect(cli(['key', 'create', '--help']).stdout).toMatch(/Examples:/);
  });

  it('exits 2 on usage errors', () => {
    expect(cli(['no-such-command']).status).toBe(2);
    expect(cli(['key', 'create']).status).toBe(2);
    expect(cli(['key', 'list', '--bogus']).status).toBe(2);
    const json = cli(['--json', 'key', 'create']);
    expect(json.status).toBe(2);
    expect(json.json.error.code).toBe('INVALID_ARGUMENT');
  });

  it('reports an empty data folder as not initialised (exit 5), and creates nothing there', () => {
    const run = inData('status', '--json');
    expect(run.status).toBe(5);
    expect(run.json).toMatchObject({ initialized: false });
    const list = inData('key', 'list', '--json');
    expect(list.status).toBe(5);
    expect(list.json.error.code).toBe('KEYCHAIN_NOT_INITIALIZED');
    expect(existsSync(join(data, 'keychain.db'))).toBe(false);
  });

  it('initialises with a demo token, once', () => {
    const run = inData('init', '--demo-token', '--json');
    expect(run.status).toBe(0);
    expect(run.json.keychainId).toEqual(expect.any(String));
    expect(run.json.masterKeyVersions).toEqual([1]);
    expect(statSync(join(data, 'hsm-user-pin')).mode & 0o077).toBe(0);
    expect(statSync(join(data, 'keychain.db')).mode & 0o077).toBe(0);

    const again = inData('init', '--demo-token', '--json');
    expect(again.status).toBe(4);
    expect(again.json.error.code).toBe('KEYCHAIN_ALREADY_INITIALIZED');

    const status = inData('status', '--json');
    expect(status.status).toBe(0);
    expect(status.json.hsm).toMatchObject({ checked: true, unseals: true });
    // Unsealed by the HSM alone: every certificate is read, and none of a fresh appliance is near its end.
    expect(status.json.certificates).toMatchObject({ warningPeriod: 'P30D', complete: true });
    const certificates = status.json.certificates.certificates as Array<{ certificate: string; name: string; warning: boolean }>;
    expect(certificates.slice(0, 2).map((c) => c.certificate)).toEqual(['ca', 'server']);
    expect(certificates.map((c) => c.name)).toContain('admin');
    expect(certificates.filter((c) => c.warning)).toEqual([]);
  });

  it('creates, rolls over and shows keys; refuses key get in local mode (a key export is dual-controlled)', () => {
    const created = inData('key', 'create', 'hr/payroll', '--owner', 'hr-team', '--attr', 'pci=true', '--json');
    expect(created.status).toBe(0);
    expect(created.json.key).toMatchObject({ fullName: 'hr/payroll', algorithm: 'AES-256', owner: 'hr-team', customAttributes: { pci: 'true' } });
    expect(JSON.stringify(created.json)).not.toMatch(/material/);

    const refused = inData('key', 'get', 'hr/payroll', '--json');
    expect(refused.status).toBe(10);
    expect(refused.json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
    expect(refused.json.error.message).toContain('--server');
    expect(JSON.stringify(refused.json)).not.toMatch(/material/);

    const rolled = inData('key', 'rollover', 'hr/payroll', '--json');
    expect(rolled.status).toBe(0);
    expect(rolled.json.key.currentVersion).toBe(2);

    const shown = inData('key', 'show', 'hr/payroll', '--json');
    expect(shown.json.instances.map((i: { version: number }) => i.version)).toEqual([1, 2]);
    expect(shown.json.instances[0].state).toBe('Deactivated');
    expect(inData('key', 'get', '--instance', shown.json.instances[0].name, '--format', 'hex').status).toBe(10);
  });

  it('refuses every dual-controlled command in local mode, and says to use --server', () => {
    inData('key', 'create', 'dc/local');
    inData('key', 'revoke', 'dc/local', '--reason', 'superseded');
    for (const args of [
      ['key', 'destroy', 'dc/local'],
      ['client', 'revoke', 'admin'],
      // After init, a new officer is a future approver: only officers' approval makes one.
      ['client', 'issue', 'officer-9', '--role', 'officer', '--out', join(dir, 'officer-9')],
      // Renewing an officer gives its requester that officer's identity: as issuing one.
      ['client', 'renew', 'admin', '--out', join(dir, 'admin-renewed')],
      ['master-key', 'rotate'],
      ['approvals', 'collect', 'some-id'],
      ['policy', 'grant', '--group', 'g', '--pattern', 'dc/*', '--permissions', 'encrypt,decrypt'],
      ['approvals', 'approve', 'some-id', '--digest', 'a'.repeat(64)],
      ['approvals', 'deny', 'some-id', '--reason', 'no'],
      ['approvals', 'cancel', 'some-id'],
      ['approvals', 'set-quorum', 'key-destroy', '1'],
    ]) {
      const run = inData(...args, '--json');
      expect([args.join(' '), run.status, run.json.error.code]).toEqual([args.join(' '), 10, 'DUAL_CONTROL_LOCAL_MODE']);
    }
    expect(inData('key', 'show', 'dc/local', '--json').json.instances[0]).toMatchObject({ state: 'Deactivated', destroyAt: null });
    // A grant without material is no approval matter, locally either.
    expect(inData('policy', 'grant', '--group', 'g', '--pattern', 'dc/*', '--permissions', 'encrypt', '--json').status).toBe(0);
    expect(inData('approvals', 'list', '--json').json).toEqual({ requests: [] });
    // The refused officer left no certificate, no client record and no key behind.
    expect(existsSync(join(dir, 'officer-9'))).toBe(false);
    expect((inData('client', 'list', '--json').json as Array<{ name: string }>).map((c) => c.name)).not.toContain('officer-9');
  });

  it('registers caller material', () => {
    const secret = Buffer.from('correct horse battery staple\n');
    const reg = cli(['--data', data, 'key', 'register', 'app/db-password', '--json'], { input: secret });
    expect(reg.status).toBe(0);
    expect(reg.json.key.algorithm).toBe('SECRET');
    // Reading it back is a key export: cli-remote.test.ts does it as an app over the wire.
    // The appliance generates AES material: clear imports are off by default (CLEAR_IMPORT_DISABLED); with clear_key_import = dual-control
    // supplying it is a key import that other officers approve, which the local operator cannot ask for (attack 14).
    const aes = cli(['--data', data, 'key', 'register', 'app/aes', '-a', 'AES-256', '--json'], { input: Buffer.alloc(32, 1) });
    expect(aes.status).toBe(10);
    expect(aes.json.error.code).toBe('CLEAR_IMPORT_DISABLED');
    const ceremony = cli(['--data', data, 'key', 'register', 'app/aes', '-a', 'AES-256', '--json'], { input: Buffer.alloc(32, 1), env: { STRONGROOM_CLEAR_KEY_IMPORT: 'dual-control' } });
    expect(ceremony.status).toBe(10);
    expect(ceremony.json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
    const wrongLength = cli(['--data', data, 'key', 'register', 'app/too-long', '--json'], { input: Buffer.alloc(8193, 1) });
    expect(wrongLength.status).toBe(2);
    expect(wrongLength.json.error.code).toBe('INVALID_ARGUMENT');
  });

  it('lists keys with filters', () => {
    inData('key', 'create', 'hr/bonus', '-a', 'HMAC-SHA256', '--cryptoperiod', '90');
    const hr = inData('key', 'list', '--match', 'hr/*', '--json');
    expect(hr.json.map((k: { fullName: string }) => k.fullName)).toEqual(['hr/bonus', 'hr/payroll']);
    const hmac = inData('key', 'list', '--algorithm', 'hmac-sha256', '--json');
    expect(hmac.json).toHaveLength(1);
    expect(hmac.json[0]).toMatchObject({ rolloverPolicy: 'auto', cryptoperiod: 'P90D' });
  });

  it('maps failures to codes and exit codes', () => {
    const missing = inData('key', 'show', 'hr/nope', '--json');
    expect(missing.status).toBe(3);
    expect(missing.json.error.code).toBe('KEY_NOT_FOUND');

    const exists = inData('key', 'create', 'hr/payroll', '--json');
    expect(exists.status).toBe(4);
    expect(exists.json.error.code).toBe('KEY_EXISTS');

    expect(inData('key', 'create', 'hr/mac-enc', '-a', 'HMAC-SHA256', '-u', 'encrypt', '--json').json.error.code).toBe('INVALID_ARGUMENT');
    expect(inData('key', 'list', '--limit', '0', '--json').status).toBe(2);
    const badAlg = inData('key', 'create', 'hr/x', '-a', 'DES', '--json');
    expect(badAlg.status).toBe(2);
    expect(badAlg.json.error.code).toBe('INVALID_ARGUMENT');

    const wrongPin = cli(['--data', data, 'key', 'list', '--json'], { env: { STRONGROOM_HSM_PIN: '0000wrong' } });
    expect(wrongPin.status).toBe(6);
    expect(wrongPin.json.error.code).toBe('HSM_PIN_INCORRECT');
    expect(wrongPin.stdout).not.toContain('0000wrong');

    const noModule = cli(['--data', data, 'key', 'list', '--json'], { env: { STRONGROOM_HSM_MODULE: join(dir, 'missing.so') } });
    expect(noModule.status).toBe(6);
    expect(noModule.json.error.code).toBe('HSM_MODULE_NOT_FOUND');

    const human = inData('key', 'show', 'hr/nope');
    expect(human.stderr).toMatch(/KEY_NOT_FOUND/);
  });

  it('lists and runs due rollovers as of a given time, once', () => {
    expect(inData('key', 'create', 'sched/daily', '--cryptoperiod', 'P1D').status).toBe(0);
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const due = inData('rollover', 'due', '--at', later, '--json');
    expect(due.status).toBe(0);
    expect(due.json.due.map((d: { name: string }) => d.name)).toContain('sched/daily');
    expect(inData('rollover', 'due', '--json').json.due.map((d: { name: string }) => d.name)).not.toContain('sched/daily');
    const run = inData('rollover', 'run', '--at', later, '--json');
    expect(run.status).toBe(0);
    expect(run.json.keys.map((k: { name: string }) => k.name)).toContain('sched/daily');
    expect(inData('rollover', 'run', '--at', later, '--json').json.rolled).toBe(0);
    const shown = inData('key', 'show', 'sched/daily', '--json').json;
    expect(shown.instances).toHaveLength(2);
    expect(shown.instances[1].activatedAt).toBe(later);
    const manual = inData('key', 'set-policy', 'sched/daily', '--rollover', 'manual', '--json');
    expect(manual.json.key).toMatchObject({ rolloverPolicy: 'manual', nextRolloverAt: null });
    // Only the usage periods: the key keeps its (manual) policy; with nothing to change, a usage error.
    const periodsOnly = inData('key', 'set-policy', 'sched/daily', '--protect-period', 'P1Y', '--json');
    expect(periodsOnly.status).toBe(0);
    expect(periodsOnly.json.key).toMatchObject({ rolloverPolicy: 'manual', protectPeriod: 'P1Y' });
    const nothing = inData('key', 'set-policy', 'sched/daily', '--json');
    expect(nothing.status).toBe(2);
    expect(nothing.json.error.message).toMatch(/nothing to change/);
    expect(inData('rollover', 'due', '--at', '2100-01-01T00:00:00Z', '--json').json.due.map((d: { name: string }) => d.name)).not.toContain('sched/daily');
    expect(inData('rollover', 'run', '--at', 'yesterday').status).toBe(2);
  });

  it('revokes an instance; destruction (dual-controlled) is for --server, cancelling one is not', () => {
    inData('key', 'create', 'life/old');
    expect(inData('key', 'revoke', 'life/old', '--reason', 'superseded', '--json').json.instance.state).toBe('Deactivated');
    expect(inData('key', 'destroy', 'life/old', '--json').json.error.code).toBe('DUAL_CONTROL_LOCAL_MODE');
    expect(inData('key', 'destroy', 'life/old', '--cancel', '--json').json.error.code).toBe('WRONG_STATE'); // nothing scheduled
    expect(inData('key', 'revoke', 'life/old', '--reason', 'nonsense', '--json').status).toBe(2);
  });

  it('sets, moves, lists and removes aliases, and Get follows them', () => {
    inData('key', 'create', 'al/one');
    inData('key', 'create', 'al/two');
    expect(inData('alias', 'set', 'al/current', 'al/one', '--json').json).toEqual({ alias: 'al/current', key: 'al/one' });
    expect(inData('key', 'show', 'al/current', '--json').json.key.fullName).toBe('al/one');
    inData('alias', 'set', 'al/current', 'al/two');
    expect(inData('key', 'show', 'al/current', '--json').json.key.fullName).toBe('al/two');
    expect(inData('alias', 'list', '--json').json).toEqual([{ alias: 'al/current', key: 'al/two' }]);
    expect(inData('alias', 'remove', 'al/current', '--json').status).toBe(0);
    const gone = inData('alias', 'remove', 'al/current', '--json');
    expect(gone.status).toBe(3);
    expect(gone.json.error.code).toBe('ALIAS_NOT_FOUND');
  });

  it('lists namespaces and removes one only when its keys are destroyed (destruction: cli-remote.test.ts)', () => {
    inData('key', 'create', 'scratch/k');
    expect(inData('namespace', 'list', '--json').json).toEqual(expect.arrayContaining([{ namespace: 'scratch', keys: 1, liveKeys: 1 }]));
    const refused = inData('namespace', 'remove', 'scratch', '--json');
    expect(refused.status).toBe(4);
    expect(refused.json.error.code).toBe('WRONG_STATE');
    inData('key', 'revoke', 'scratch/k', '--reason', 'superseded');
    expect(inData('namespace', 'remove', 'scratch', '--json').json.error.code).toBe('WRONG_STATE');
  });

  it('takes the data folder from STRONGROOM_DATA', () => {
    const run = cli(['key', 'list', '--json'], { env: { STRONGROOM_DATA: data } });
    expect(run.json?.error).toBeUndefined(); // shows the code and message if it failed
    expect(run.status).toBe(0);
    expect(run.json.length).toBeGreaterThanOrEqual(3);
  });
});
