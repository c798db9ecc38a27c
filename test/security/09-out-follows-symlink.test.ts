/**
 * Lesser attack of the trust review (issue 12): `--out` follows symlinks and
 * keeps an existing file's mode. Someone who can write the folder an
 * operator exports into plants `trail.jsonl -> ~/.ssh/authorized_keys` (or
 * any file of the operator's); `audit export --out trail.jsonl` and `report
 * --out` then overwrote the link's target, and a file made world-readable
 * beforehand kept its mode with the trail (or a client key) inside.
 *
 * Now every --out file goes through cli/out-file.ts: a symbolic link (or a
 * FIFO, or a file with other hard links) is OUT_FILE_REFUSED (exit 4) with
 * the target untouched; what is written is 0600, new or not. Runs the
 * compiled CLI against a real appliance (mutual TLS, SoftHSM2, SQLite), as
 * an auditor and an officer.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cliAsync, CliRun } from '../support/cli-runner';
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

const VICTIM = 'ssh-ed25519 AAAA... the operator\'s own file\n';

describe('attack: --out follows a symlink to another file', () => {
  let app: TestAppliance;
  let dir: string;
  let as: (who: 'auditor' | 'officer', ...args: string[]) => Promise<CliRun>;

  const credentialArgs = (name: string, credentials: Credentials): string[] => {
    writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
    writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'appliance-ca.pem'), credentials.caPem);
    return ['--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'appliance-ca.pem')];
  };
  const mode = (path: string): number => statSync(path).mode & 0o777;
  /** A victim file and a link to it at `at`. */
  const plantLink = (at: string): string => {
    const victim = join(dir, `victim-${Math.random().toString(16).slice(2)}`);
    writeFileSync(victim, VICTIM, { mode: 0o644 });
    symlinkSync(victim, at);
    return victim;
  };

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sec09-'));
    app = await startTestAppliance();
    const args = { auditor: credentialArgs('auditor', app.issue('auditor-1', 'auditor')), officer: credentialArgs('officer', app.officer) };
    as = (who, ...rest) => cliAsync(['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, ...args[who], '--json', ...rest]);
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    officer.destroy();
  });

  afterAll(async () => {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses audit export --out at a symbolic link, and leaves its target untouched', async () => {
    const out = join(dir, 'trail.jsonl');
    const victim = plantLink(out);
    const run = await as('auditor', 'audit', 'export', '--out', out);
    expect([run.status, run.json.error.code]).toEqual([4, 'OUT_FILE_REFUSED']);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM);
    expect(mode(victim)).toBe(0o644);
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
  });

  it('refuses report --out at a symbolic link, and leaves its target untouched', async () => {
    const out = join(dir, 'report.md');
    const victim = plantLink(out);
    const run = await as('auditor', 'report', '--format', 'md', '--out', out);
    expect([run.status, run.json.error.code]).toEqual([4, 'OUT_FILE_REFUSED']);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM);
  });

  it('refuses client issue into a folder whose ca.pem is a link, before anything is issued', async () => {
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    const victim = plantLink(join(certs, 'ca.pem'));
    const run = await as('officer', 'client', 'issue', 'linked-app', '--role', 'app', '--out', certs);
    expect([run.status, run.json.error.code]).toEqual([4, 'OUT_FILE_REFUSED']);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM);
    expect(existsSync(join(certs, 'linked-app.key'))).toBe(false);
    expect((await as('officer', 'client', 'list')).json.map((c: { name: string }) => c.name)).not.toContain('linked-app');
  });

  it('refuses a file with another hard link and a FIFO', async () => {
    const victim = join(dir, 'hard-victim');
    writeFileSync(victim, VICTIM, { mode: 0o644 });
    const out = join(dir, 'hard.jsonl');
    linkSync(victim, out);
    const hard = await as('auditor', 'audit', 'export', '--out', out);
    expect([hard.status, hard.json.error.code]).toEqual([4, 'OUT_FILE_REFUSED']);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM);
    const fifo = join(dir, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const piped = await as('auditor', 'audit', 'export', '--out', fifo);
    expect([piped.status, piped.json.error.code]).toEqual([4, 'OUT_FILE_REFUSED']);
  });

  it('writes a new --out file 0600, and narrows an existing one to 0600 as it replaces it', async () => {
    const fresh = join(dir, 'fresh.jsonl');
    const exported = await as('auditor', 'audit', 'export', '--out', fresh);
    expect(exported.status).toBe(0);
    expect(exported.json.exported).toBeGreaterThan(0);
    expect(mode(fresh)).toBe(0o600);
    expect(readFileSync(fresh, 'utf8').split('\n').filter(Boolean)).toHaveLength(exported.json.exported);

    const existing = join(dir, 'existing.md');
    writeFileSync(existing, 'x'.repeat(100_000));
    chmodSync(existing, 0o644);
    const reported = await as('auditor', 'report', '--format', 'md', '--out', existing);
    expect(reported.status).toBe(0);
    expect(mode(existing)).toBe(0o600);
    // Replaced, not overwritten in place: nothing of the old content is left after the report.
    expect(statSync(existing).size).toBe(reported.json.bytes);
  });
});
