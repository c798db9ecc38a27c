/**
 * `strongroom encrypt` and `strongroom decrypt` (the compiled CLI in a child
 * process) over mutual TLS with an app's certificate, against a real
 * appliance (SoftHSM2 token, SQLite keychain): files and standard input,
 * binary-safe round trips, the self-describing line and the --json document
 * both accepted back as is, --aad, --out's file rules, and the refusals
 * (no grant, wrong AAD, not a ciphertext) with their codes and next steps.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli-runner';
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

/** Bound on each CLI run. */
const RUN_MS = 60_000;

interface Run {
  status: number;
  stdout: Buffer;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('strongroom encrypt and decrypt over the wire', () => {
  let app: TestAppliance;
  let dir: string;
  let asApp: string[];
  let asOther: string[];

  const write = (name: string, credentials: Credentials): string[] => {
    writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
    writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), credentials.caPem);
    return ['--data', join(dir, 'data'), '--server', `127.0.0.1:${app.port}`, '--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'ca.pem')];
  };

  /** Runs the CLI without blocking this process (the appliance serves from it); `input` is its standard input. */
  const run = (args: string[], input?: Buffer | string): Promise<Run> =>
    new Promise((done) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c) => (stderr += c));
      child.stdin.end(input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
      child.on('close', (code) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out);
        let json: unknown = null;
        try {
          json = JSON.parse(stdout.toString('utf8'));
        } catch {
          /* bytes or text */
        }
        done({ status: code ?? -1, stdout, stderr, json });
      });
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-encrypt-'));
    app = await startTestAppliance();
    const officer = await app.connect(app.officer);
    for (const name of ['hr/payroll', 'crm/other']) expect((await officer.request('Create', { name })).error).toBeUndefined();
    officer.destroy();
    asApp = write('payroll-app', app.issue('payroll-app', 'app'));
    asOther = write('other-app', app.issue('other-app', 'app'));
    // Grants are written through the keychain's authenticated directory, as PolicyGrant's run does.
    app.appliance.keychain.directory.putGrant({ id: 'g-enc', subjectKind: 'client', subject: 'payroll-app', pattern: 'hr/*', permissions: ['encrypt', 'decrypt'], createdAt: new Date().toISOString(), createdBy: 'test' });
    app.appliance.keychain.directory.putGrant({ id: 'g-other', subjectKind: 'client', subject: 'other-app', pattern: 'hr/*', permissions: ['encrypt'], createdAt: new Date().toISOString(), createdBy: 'test' });
  });

  afterAll(async () => {
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips binary bytes from standard input to standard output through the one-line form', async () => {
    // Every byte value, a NUL and a trailing newline: nothing may be lost or added.
    const plaintext = Buffer.concat([Buffer.from([...Array(256).keys()]), randomBytes(1000), Buffer.from('\n')]);
    const sealed = await run([...asApp, 'encrypt', 'hr/payroll'], plaintext);
    expect(sealed.stderr).toBe('');
    expect(sealed.status).toBe(0);
    const line = sealed.stdout.toString('utf8');
    expect(line).toMatch(/^strongroom:v1:hr\/payroll:[A-Za-z0-9+/]+={0,2}\n$/);
    expect(line).not.toContain(plaintext.subarray(300, 340).toString('base64'));
    const opened = await run([...asApp, 'decrypt'], line);
    expect(opened.status).toBe(0);
    expect(Buffer.compare(opened.stdout, plaintext)).toBe(0);
  });

  it('reads --in and writes --out (0600), with --aad bound, and decrypts the --json document as is', async () => {
    const plaintext = randomBytes(4096);
    writeFileSync(join(dir, 'in.bin'), plaintext);
    const sealed = await run(['--json', ...asApp, 'encrypt', 'hr/payroll', '--in', join(dir, 'in.bin'), '--out', join(dir, 'sealed.json'), '--aad', 'employee=42']);
    expect(sealed.status).toBe(0);
    expect(sealed.stdout.length).toBe(0);
    expect(lstatSync(join(dir, 'sealed.json')).mode & 0o777).toBe(0o600);
    const document = JSON.parse(readFileSync(join(dir, 'sealed.json'), 'utf8'));
    expect(document).toEqual({ key: 'hr/payroll', instance: expect.any(String), aad: true, ciphertext: expect.stringMatching(/^strongroom:v1:hr\/payroll:aad:/) });

    const opened = await run([...asApp, 'decrypt', '--in', join(dir, 'sealed.json'), '--out', join(dir, 'out.bin'), '--aad', 'employee=42']);
    expect(opened.status).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'out.bin')), plaintext)).toBe(0);
    expect(lstatSync(join(dir, 'out.bin')).mode & 0o777).toBe(0o600);

    const asJson = await run(['--json', ...asApp, 'decrypt', '--aad', 'employee=42'], JSON.stringify(document));
    expect(asJson.json).toEqual({ key: 'hr/payroll', instance: document.instance, plaintext: plaintext.toString('base64') });

    // The AAD is checked where it can be said plainly: missing, or given when none was bound.
    const noAad = await run(['--json', ...asApp, 'decrypt', '--in', join(dir, 'sealed.json')]);
    expect(noAad.status).toBe(2);
    expect(noAad.json.error.code).toBe('INVALID_ARGUMENT');
    expect(noAad.json.error.message).toContain('--aad');
    const wrongAad = await run(['--json', ...asApp, 'decrypt', '--in', join(dir, 'sealed.json'), '--aad', 'employee=43']);
    expect(wrongAad.status).toBe(7);
    expect(wrongAad.json.error.code).toBe('INTEGRITY_FAILURE');
  });

  it('decrypts after a rollover: the line names the instance that made it', async () => {
    const sealed = await run([...asApp, 'encrypt', 'hr/payroll'], 'before the rollover');
    const officer = await app.connect(app.officer);
    expect((await officer.request('ReKey', { name: 'hr/payroll' })).error).toBeUndefined();
    officer.destroy();
    const opened = await run([...asApp, 'decrypt'], sealed.stdout);
    expect(opened.stdout.toString('utf8')).toBe('before the rollover');
  });

  it('names the key an alias resolved to, so the line still decrypts after the alias moves', async () => {
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/next' })).error).toBeUndefined();
    expect((await officer.request('AliasSet', { alias: 'hr/current', name: 'hr/payroll' })).error).toBeUndefined();
    const sealed = await run([...asApp, 'encrypt', 'hr/current'], 'through an alias');
    expect(sealed.stdout.toString('utf8')).toMatch(/^strongroom:v1:hr\/payroll:/);
    expect((await officer.request('AliasSet', { alias: 'hr/current', name: 'hr/next' })).error).toBeUndefined();
    officer.destroy();
    const opened = await run([...asApp, 'decrypt'], sealed.stdout);
    expect(opened.stdout.toString('utf8')).toBe('through an alias');
  });

  it('refuses without a grant (exit 10, naming the grant needed), and refuses what is not a ciphertext', async () => {
    const sealed = await run([...asOther, 'encrypt', 'hr/payroll'], 'encrypt only');
    expect(sealed.status).toBe(0);
    const refused = await run([...asOther, 'decrypt'], sealed.stdout);
    expect(refused.status).toBe(10);
    expect(refused.stderr).toContain('error [PERMISSION_DENIED]');
    expect(refused.stderr).toContain("strongroom policy grant --client other-app --pattern 'hr/payroll' --permissions decrypt");
    expect((await run(['--json', ...asOther, 'encrypt', 'crm/other'], 'x')).json.error).toMatchObject({ code: 'PERMISSION_DENIED', details: { permission: 'encrypt' } });

    for (const input of ['hello', 'strongroom:v1:hr/payroll:!!!', '{"ciphertext": 3}', '{"key": "crm/other", "ciphertext": "strongroom:v1:hr/payroll:AAAA"}']) {
      const bad = await run(['--json', ...asApp, 'decrypt'], input);
      expect(bad.status).toBe(2);
      expect(bad.json.error.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('locally, the local operator (an officer without a certificate) is refused with the way to do it over the wire', async () => {
    const data = join(dir, 'local-data');
    expect((await run(['--json', '--data', data, 'init', '--demo-token'])).status).toBe(0);
    expect((await run(['--json', '--data', data, 'key', 'create', 'hr/local'])).status).toBe(0);
    const local = await run(['--json', '--data', data, 'encrypt', 'hr/local'], 'x');
    expect(local.status).toBe(10);
    expect(local.json.error.code).toBe('PERMISSION_DENIED');
    expect(local.json.error.message).toContain('--server');
  });

  it('refuses an --out that is a symbolic link before asking the appliance, and input larger than a request', async () => {
    writeFileSync(join(dir, 'target'), 'untouched');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    const refused = await run(['--json', ...asApp, 'encrypt', 'hr/payroll', '--out', join(dir, 'link')], 'x');
    expect(refused.status).toBe(4);
    expect(refused.json.error.code).toBe('OUT_FILE_REFUSED');
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('untouched');

    const tooLarge = await run(['--json', ...asApp, 'encrypt', 'hr/payroll'], Buffer.alloc(1024 * 1024 + 1));
    expect(tooLarge.status).toBe(2);
    expect(tooLarge.json.error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { limit: 1024 * 1024 } });
    const overEncryptLimit = await run(['--json', ...asApp, 'encrypt', 'hr/payroll'], Buffer.alloc(64 * 1024 + 1));
    expect(overEncryptLimit.json.error.code).toBe('INVALID_ARGUMENT');
    expect(overEncryptLimit.json.error.message).toContain('GenerateDataKey');
    expect(existsSync(join(dir, 'missing-in'))).toBe(false);
    expect((await run(['--json', ...asApp, 'encrypt', 'hr/payroll', '--in', join(dir, 'missing-in')])).json.error.code).toBe('INVALID_ARGUMENT');
  });
});
