/**
 * The CLI's split knowledge, end to end with the compiled `strongroom`:
 * `init --shares 3 --threshold 2` prints three shares once; the local CLI
 * cannot open the keychain without them; `serve` starts sealed; `unseal`
 * reads a share from a file or stdin (never an argument) and reports k of M,
 * each custodian with the officer certificate init made for them;
 * `seal`, `unseal --status`, `--withdraw`, `--reset`; `master-key status`,
 * and `master-key rotate` approved by two other officers (refused in local
 * mode: DUAL_CONTROL_LOCAL_MODE, and audited).
 * And the demo path: a keychain without shares unseals from the PIN, warns
 * that this is not split knowledge, and `seal` / `unseal` work on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli as runCli, CliRun as Run, ServingCli, startServe } from '../support/cli-runner';
import { localOperator } from '../../server/local/local-operator';
import { decodeShare, encodeShare } from '../../domain/unseal/share-codec';

const localOperatorName = (): string => localOperator().name;

/** Input '' by default: a share read from stdin must not wait on the test's terminal. */
const cli = (args: string[], input?: string): Run => runCli(args, {}, input ?? '');

/** A share with one byte changed and its checksum made valid again (anyone can): what only the commitment catches. */
function forged(text: string): string {
  const { custodian, bytes } = decodeShare(text);
  bytes[3] ^= 0x10;
  return encodeShare(custodian, bytes);
}

const startServer = (data: string): Promise<ServingCli> => startServe(data);
const stop = async (server: ServingCli | undefined): Promise<void> => server?.stop();

describe('strongroom init --shares, unseal, seal, master-key', () => {
  let dir: string;
  let data: string;
  let shares: string[];
  let custodianCerts: Array<{ certFile: string; keyFile: string }>;
  let server: Awaited<ReturnType<typeof startServer>>;
  let remote: (args: string[], input?: string) => Run;
  /** As custodian n (1..3), with the officer certificate init issued for them. */
  let custodian: (n: number, args: string[], input?: string) => Run;

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-unseal-'));
    data = join(dir, 'data');
    const init = cli(['--data', data, 'init', '--demo-token', '--shares', '3', '--threshold', '2', '--json']);
    expect(init.status).toBe(0);
    expect(init.json.unseal).toEqual({ mode: 'hsm+shares', shares: 3, threshold: 2 });
    const printed = init.json.shares as Array<{ custodian: number; share: string; client: string; certFile: string; keyFile: string }>;
    shares = printed.map((s) => s.share);
    expect(shares).toHaveLength(3);
    expect(printed.map((s) => s.client)).toEqual(['custodian-1', 'custodian-2', 'custodian-3']);
    custodianCerts = printed;
    for (const cert of custodianCerts) expect(statSync(cert.keyFile).mode & 0o077).toBe(0);
    server = await startServer(data);
    remote = (args, input) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args], input);
    custodian = (n, args, input) =>
      cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', custodianCerts[n - 1].certFile, '--key', custodianCerts[n - 1].keyFile, '--json', ...args], input);
  });

  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['--threshold 1', ['--shares', '3', '--threshold', '1']],
    ['a threshold above the shares', ['--shares', '2', '--threshold', '3']],
    ['17 shares', ['--shares', '17', '--threshold', '2']],
    ['--shares alone', ['--shares', '3']],
  ])('init refuses %s (exit 2, INVALID_ARGUMENT) and creates nothing', (_what, flags) => {
    const other = join(dir, `bad-${flags.join('')}`);
    const run = cli(['--data', other, 'init', '--demo-token', ...flags, '--json']);
    expect(run.status).toBe(2);
    expect(run.json.error.code).toBe('INVALID_ARGUMENT');
    expect(existsSync(join(other, 'keychain.db'))).toBe(false);
  });

  it('the local CLI cannot open a share-bound keychain (exit 5, UNSEAL_SHARES_REQUIRED); status says why', () => {
    const list = cli(['--data', data, 'key', 'list', '--json']);
    expect(list.status).toBe(5);
    expect(list.json.error.code).toBe('UNSEAL_SHARES_REQUIRED');
    const status = cli(['--data', data, 'status', '--json']);
    expect(status.status).toBe(0);
    expect(status.json.unseal).toEqual({ mode: 'hsm+shares', shares: 3, threshold: 2 });
    expect(status.json.hsm).toMatchObject({ checked: true, opensHsmLayer: true, needsShares: 2 });
    // Sealed: the server certificate cannot be read, the CA (ca_file) and the client records can.
    expect(status.json.certificates.complete).toBe(false);
    expect(status.json.certificates.certificates.map((c: { certificate: string }) => c.certificate)).toEqual(expect.arrayContaining(['ca', 'client']));
    expect(status.json.certificates.certificates.map((c: { certificate: string }) => c.certificate)).not.toContain('server');
  });

  it('serve starts sealed; custodians unseal from a file and from stdin, k of M after each', () => {
    const before = remote(['status']);
    expect(before.status).toBe(5);
    expect(before.json.unseal).toMatchObject({ sealed: true, submitted: 0, threshold: 2 });
    expect(remote(['key', 'list']).json.error.code).toBe('SEALED');
    const file = join(dir, 'share-2.txt');
    writeFileSync(file, `${shares[1]}\n`, { mode: 0o600 });
    const first = custodian(2, ['unseal', '--share-file', file]);
    expect(first.status).toBe(0);
    expect(first.json).toMatchObject({ sealed: true, submitted: 1, custodians: [2], shareCheck: 'each-share' });
    const human = cli(['--data', data, '--server', `127.0.0.1:${server.port}`, 'unseal', '--status']);
    expect(human.stdout).toContain('1 of 2 shares submitted');
    // One certificate submits one share per attempt, even holding two.
    const again = custodian(2, ['unseal'], `${shares[2]}\n`);
    expect({ status: again.status, code: again.json.error.code }).toEqual({ status: 4, code: 'UNSEAL_CLIENT_ALREADY_SUBMITTED' });
    const second = custodian(3, ['unseal'], `${shares[2]}\n`);
    expect(second.json).toMatchObject({ sealed: false });
    expect(remote(['key', 'create', 'hr/payroll']).status).toBe(0);
    expect(remote(['status']).status).toBe(0);
  });

  it('refuses a forged share at once (exit 7, UNSEAL_SHARE_INVALID, naming the custodian) without losing the progress', () => {
    expect(remote(['seal']).json).toMatchObject({ sealed: true });
    expect(custodian(1, ['unseal'], shares[0]).json).toMatchObject({ submitted: 1 });
    const refused = custodian(3, ['unseal'], forged(shares[1]));
    expect({ status: refused.status, code: refused.json.error.code, custodian: refused.json.error.details.custodian }).toEqual({ status: 7, code: 'UNSEAL_SHARE_INVALID', custodian: 2 });
    expect(custodian(2, ['unseal'], shares[1]).json).toMatchObject({ sealed: false });
  });

  it('never takes a share as an argument (exit 2)', () => {
    expect(remote(['unseal', shares[0]]).status).toBe(2);
  });

  it('seal seals the running server; unseal --withdraw takes back one\'s own share, --reset forgets them all', () => {
    expect(remote(['seal']).json).toMatchObject({ sealed: true });
    expect(remote(['key', 'get', 'hr/payroll']).json.error.code).toBe('SEALED');
    expect(custodian(1, ['unseal'], shares[0]).json).toMatchObject({ submitted: 1 });
    expect(custodian(3, ['unseal', '--withdraw']).json).toMatchObject({ submitted: 1 });
    expect(custodian(1, ['unseal', '--withdraw']).json).toMatchObject({ submitted: 0 });
    expect(custodian(1, ['unseal'], shares[0]).json).toMatchObject({ submitted: 1 });
    expect(remote(['unseal', '--reset']).json).toMatchObject({ sealed: true, submitted: 0 });
    expect(custodian(1, ['unseal'], shares[0]).json).toMatchObject({ submitted: 1 });
    expect(custodian(3, ['unseal'], shares[2]).json).toMatchObject({ sealed: false });
  });

  it('master-key rotate over the wire waits for two other officers, keeps v1 by default; local mode refuses it (exit 10) and audits that', () => {
    expect(remote(['master-key', 'status']).json).toMatchObject({ current: 1, tokenVersions: [1], unreferenced: [] });
    const asked = remote(['master-key', 'rotate']);
    expect({ status: asked.status, code: asked.json.error.code }).toEqual({ status: 12, code: 'APPROVAL_REQUIRED' });
    const { requestId, digest } = asked.json.error.details;
    for (const n of [2, 3]) expect(custodian(n, ['approvals', 'approve', requestId, '--digest', digest]).status).toBe(0);
    let request: { state: string; result: unknown } = { state: 'approved', result: null };
    for (let i = 0; i < 100 && (request.state === 'approved' || request.state === 'executing'); i++) request = remote(['approvals', 'show', requestId]).json.request;
    expect(request).toMatchObject({ state: 'executed', result: { from: [1], to: 2, destroyed: [] } });
    expect(remote(['master-key', 'status']).json).toMatchObject({ current: 2, tokenVersions: [1, 2], unreferenced: [1] });

    const local = cli(['--data', data, 'master-key', 'rotate', '--json']);
    expect({ status: local.status, code: local.json.error.code }).toEqual({ status: 10, code: 'DUAL_CONTROL_LOCAL_MODE' });
    const localStatus = cli(['--data', data, 'master-key', 'status', '--json']);
    expect(localStatus.json).toMatchObject({ current: 2 });
    const trail = (remote(['audit', 'search', '--identity', localOperatorName()]).json.events as Array<{ event: { operation: string; result: string } }>).map((r) => r.event);
    expect(trail.map((e) => `${e.operation}:${e.result}`)).toEqual(expect.arrayContaining(['MasterKeyRotate:DUAL_CONTROL_LOCAL_MODE', 'MasterKeyStatus:ok']));

    expect(remote(['seal']).status).toBe(0);
    expect(custodian(1, ['unseal'], shares[0]).json).toMatchObject({ submitted: 1 });
    expect(custodian(2, ['unseal'], shares[1]).json).toMatchObject({ sealed: false });
    expect(remote(['key', 'get', 'hr/payroll']).status).toBe(12);
  });

  it('init printed the shares once with a warning, and nothing of them is in the data folder or the server log', () => {
    const human = cli(['--data', join(dir, 'human'), 'init', '--demo-token', '--shares', '2', '--threshold', '2']);
    expect({ status: human.status, stderr: human.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(human.stdout).toContain('WARNING: shown only now');
    expect(human.stdout.match(/custodian \d: sr1-/g)).toHaveLength(2);
    const dump = spawnSync('grep', ['-rl', shares[0].split('-')[2].slice(0, 16), data], { encoding: 'utf8' });
    expect(dump.stdout).toBe('');
    expect(server.stderr()).not.toContain(shares[0].split('-')[2].slice(0, 16));
  });
});

describe('a keychain without shares (the demo): PIN unseal, seal and unseal', () => {
  let dir: string;
  let data: string;
  let server: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-pin-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    server = await startServer(data);
  });

  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns at start that the HSM alone unseals, and seal/unseal work without shares', () => {
    expect(server.stderr()).toContain('not split knowledge');
    const remote = (...args: string[]): Run => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args]);
    expect(remote('status').json.unseal).toMatchObject({ sealed: false, mode: 'hsm' });
    expect(remote('seal').json).toMatchObject({ sealed: true });
    expect(remote('key', 'list').json.error.code).toBe('SEALED');
    expect(remote('unseal').json).toMatchObject({ sealed: false });
    expect(remote('key', 'list').status).toBe(0);
  });
});
