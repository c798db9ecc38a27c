/**
 * Issue 16 items 8 and 10: what the CLI tells a person, driven through the
 * compiled CLI against a real appliance (SoftHSM2 token, SQLite file, mTLS
 * server in this process). `approvals list` is one short line per request and
 * `approvals show` summarises a PEM instead of printing it, with --json
 * exactly the shapes docs/protocol.md gives; an app without a locate grant is
 * not told the keychain is empty; `events --follow` says on stderr what it is
 * connected to; usage errors name the help to read; --cert and --key go
 * together; `status` aligns the limits; a sealed appliance says it refused.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertCliBuilt, CLI, cli, cliAsync, CliRun } from '../support/cli-runner';
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

/** Bound on waiting for the CLI's "connected" line. */
const CONNECTED_WAIT_MS = 30_000;

/** The fields of a request as docs/protocol.md §6.3 lists them ("A request is `{ … }`"). */
function documentedRequestFields(): string[] {
  const doc = readFileSync(resolve(__dirname, '../../docs/protocol.md'), 'utf8');
  const match = /A request is `\{([^}]*)\}`/.exec(doc);
  if (!match) throw new Error('docs/protocol.md no longer says "A request is `{ … }`"');
  return match[1].split(',').map((field) => field.trim()).sort();
}

describe('what the CLI tells a person (issue 16 items 8 and 10)', () => {
  let app: TestAppliance;
  let dir: string;
  let server: string;
  let asOfficer: string[];
  let asApp: string[];

  const write = (name: string, credentials: Credentials): string[] => {
    writeFileSync(join(dir, `${name}.crt`), credentials.certificatePem);
    writeFileSync(join(dir, `${name}.key`), credentials.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.pem'), credentials.caPem);
    return ['--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`), '--ca', join(dir, 'ca.pem')];
  };
  const remote = (identity: string[], ...args: string[]): Promise<CliRun> => cliAsync(['--data', join(dir, 'data'), '--server', server, ...identity, ...args]);

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cli-hints-'));
    app = await startTestAppliance();
    server = `127.0.0.1:${app.port}`;
    asOfficer = write('officer', app.officer);
    asApp = write('lonely-app', app.issue('lonely-app', 'app'));
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // First: it needs the keychain still empty.
  it('10a: an empty key list tells an officer the keychain is empty, and an app without a locate grant that none are visible to it', async () => {
    const empty = await remote(asOfficer, 'key', 'list');
    expect(empty.status).toBe(0);
    expect(empty.stdout).toContain('The keychain has no keys. Create one with: strongroom key create');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll' })).error).toBeUndefined();
    officer.destroy();
    const unmatched = await remote(asOfficer, 'key', 'list', '--match', 'crm/*');
    expect(unmatched.stdout).toContain('No keys match these filters');
    const asTheApp = await remote(asApp, 'key', 'list');
    expect(asTheApp.status).toBe(0);
    expect(asTheApp.stdout).toContain('No keys visible to lonely-app.');
    expect(asTheApp.stdout).toContain("strongroom policy grant --client lonely-app --pattern '<namespace>/*' --permissions locate");
    expect(asTheApp.stdout).not.toContain('Create one with');
    // --json is the list, whoever asks: an empty array, no prose.
    expect((await remote(asApp, '--json', 'key', 'list')).json).toEqual([]);
    // A refusal says how to get the grant.
    const refused = await remote(asApp, '--json', 'key', 'show', 'hr/payroll');
    expect([refused.status, refused.json.error.code]).toEqual([10, 'PERMISSION_DENIED']);
    expect(refused.json.error.message).toContain("strongroom policy grant --client lonely-app --pattern 'hr/payroll' --permissions get-attributes");
  });

  it('8: approvals list is one short line per request naming its target; show summarises the PEM; --json is what docs/protocol.md says', async () => {
    const outDir = join(dir, 'issued');
    const issue = await remote(asOfficer, '--json', 'client', 'issue', 'new-officer', '--role', 'officer', '--out', outDir);
    expect([issue.status, issue.json.error.code]).toEqual([12, 'APPROVAL_REQUIRED']);
    const issueId = issue.json.error.details.requestId as string;
    // An officer's export through an alias: the target is the key the alias resolved to.
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'ops/ledger' })).error).toBeUndefined();
    expect((await officer.request('AliasSet', { alias: 'ledger', name: 'ops/ledger' })).error).toBeUndefined();
    officer.destroy();
    const exportRun = await remote(asOfficer, '--json', 'key', 'get', 'ledger');
    expect(exportRun.status).toBe(12);
    const exportId = exportRun.json.error.details.requestId as string;
    // The text-mode hint says the approver needs --server and their own certificate (local mode refuses votes).
    const textRun = await remote(asOfficer, 'key', 'get', 'ledger');
    expect(textRun.status).toBe(12);
    expect(textRun.stderr).toMatch(/next: another officer, with --server and their own --cert and --key, runs `strongroom approvals show \S+`, then `strongroom approvals approve \S+ --digest [0-9a-f]{64}`/);

    const list = await remote(asOfficer, 'approvals', 'list');
    expect(list.status).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+OPERATION\s+TARGET\s+REQUESTER\s+VOTES\s+EXPIRES$/);
    expect(list.stdout).not.toContain('BEGIN');
    for (const line of lines) expect(line.length).toBeLessThan(160);
    const issueLine = lines.find((l) => l.startsWith(issueId)) as string;
    expect(issueLine).toMatch(/^\S+\s+pending\s+ClientIssue\s+client new-officer \(officer\)\s+test-officer\s+0\/2\s+\d{4}-\d\d-\d\dT/);
    expect(lines.find((l) => l.startsWith(exportId))).toMatch(/\sGet\s+key ops\/ledger\s+test-officer\s+0\/2\s/);

    const show = await remote(asOfficer, 'approvals', 'show', issueId);
    expect(show.status).toBe(0);
    expect(show.stdout).not.toContain('BEGIN');
    // The fingerprint of the public key of the private key kept in --out, worked out here independently.
    const publicKey = createPublicKey(readFileSync(join(outDir, 'new-officer.key'), 'utf8'));
    const fingerprint = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').toUpperCase().match(/../g)!.join(':');
    expect(show.stdout).toContain(`publicKeyPem: ${publicKey.asymmetricKeyType} public key, SHA-256 ${fingerprint}`);
    // The requester was told the same fingerprint, to give the approvers.
    expect(issue.json.error.details.publicKeySha256).toBe(fingerprint);
    expect(show.stdout).toMatch(/^Target {5}client new-officer \(officer\)$/m);
    expect(show.stdout).toMatch(/^ {11}role: officer$/m);

    const fields = documentedRequestFields();
    const listJson = await remote(asOfficer, '--json', 'approvals', 'list');
    expect(Object.keys(listJson.json)).toEqual(['requests']);
    for (const request of listJson.json.requests) expect(Object.keys(request).sort()).toEqual(fields);
    const showJson = await remote(asOfficer, '--json', 'approvals', 'show', issueId);
    expect(Object.keys(showJson.json)).toEqual(['request']);
    expect(Object.keys(showJson.json.request).sort()).toEqual(fields);
    // The JSON keeps the arguments whole, for scripts: the PEM the officer sent.
    expect(showJson.json.request.args.publicKeyPem).toContain('-----BEGIN PUBLIC KEY-----');
  });

  it('10b: events --follow says on stderr what it is connected to before any event, and keeps stdout for events', async () => {
    for (const json of [false, true]) {
      const args = [CLI, '--data', join(dir, 'data'), '--server', server, ...asOfficer, ...(json ? ['--json'] : [])];
      args.push('events', '--events-port', String(app.server.eventsPort), '--follow', '--type', 'approval', '--namespace', 'hr');
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const { stdout, stderr, status } = await untilConnectedThenInterrupt(child);
      expect(status).toBe(0);
      expect(stderr).toContain(`connected to wss://127.0.0.1:${app.server.eventsPort}/events as test-officer (officer); kinds approval, audit types all, namespaces hr`);
      expect(stdout).toBe('');
    }
    // Nothing listening: the error names the address it tried and the option that changes it.
    const refused = await remote(asOfficer, 'events', '--events-port', '1');
    expect(refused.status).toBe(11);
    expect(refused.stderr).toContain('at wss://127.0.0.1:1/events');
    expect(refused.stderr).toContain('--events-port');
  });

  it('10c: a usage error ends with the help of the command that refused it (text, and --json)', () => {
    for (const [args, help] of [
      [['key', 'list', '--bogus'], 'strongroom key list --help'],
      [['--bogus'], 'strongroom --help'],
      [['approvals', 'show'], 'strongroom approvals show --help'],
      [['key', 'lst'], 'strongroom key --help'],
    ] as const) {
      const run = cli([...args]);
      expect([args.join(' '), run.status]).toEqual([args.join(' '), 2]);
      expect(run.stderr.trimEnd().split('\n').pop()).toBe(`(see \`${help}\`)`);
      // With --json the one JSON document says the same.
      const json = cli([...args, '--json']);
      expect([json.status, json.json.error.code]).toEqual([2, 'INVALID_ARGUMENT']);
      expect(json.json.error.message.endsWith(`(see \`${help}\`)`)).toBe(true);
    }
  });

  it('10d: --cert without --key (and --key without --cert) is a usage error naming the missing flag, and nothing is sent', async () => {
    const certOnly = await remote(['--cert', join(dir, 'lonely-app.crt'), '--ca', join(dir, 'ca.pem')], '--json', 'key', 'list');
    expect([certOnly.status, certOnly.json.error.code, certOnly.json.error.details.missing]).toEqual([2, 'INVALID_ARGUMENT', '--key']);
    const keyOnly = await remote(['--key', join(dir, 'lonely-app.key'), '--ca', join(dir, 'ca.pem')], 'key', 'list');
    expect(keyOnly.status).toBe(2);
    expect(keyOnly.stderr).toContain('--key needs --cert');
    expect(keyOnly.stdout).toBe('');
  });

  it('10e: status --server renders the limits as aligned name/value lines; --json keeps the object', async () => {
    const json = await remote(asOfficer, '--json', 'status');
    const limits = json.json.limits as Record<string, number>;
    expect(Object.keys(limits).length).toBeGreaterThan(3);
    const text = await remote(asOfficer, 'status');
    expect(text.status).toBe(0);
    expect(text.stdout).not.toContain('{"');
    const lines = text.stdout.split('\n');
    expect(lines).toContain('  limits:');
    const valueColumns = new Set<number>();
    for (const [name, value] of Object.entries(limits)) {
      const line = lines.find((l) => l.trimStart().startsWith(`${name} `)) as string;
      expect(line).toMatch(new RegExp(`^ {4}${name} +${String(value)}$`));
      valueColumns.add(line.length - String(value).length);
    }
    expect(valueColumns.size).toBe(1);
  });

  // Last: it leaves the appliance sealed.
  it('10f: a sealed appliance says it refused the request (nothing kept to run later) and how to unseal', async () => {
    expect((await remote(asOfficer, 'seal')).status).toBe(0);
    const text = await remote(asOfficer, 'key', 'list');
    expect(text.status).toBe(5);
    expect(text.stderr).toContain('error [SEALED]');
    expect(text.stderr).toContain('was refused, and nothing was kept to run later');
    expect(text.stderr).toContain('unseal');
    expect(text.stderr).not.toMatch(/\bwaits?\b/);
    const json = await remote(asOfficer, '--json', 'client', 'issue', 'late-app', '--role', 'app', '--out', join(dir, 'late'));
    expect([json.status, json.json.error.code]).toEqual([5, 'SEALED']);
    expect(json.json.error.message).not.toMatch(/\bwaits?\b/);
  });
});

/** Waits for the events command's "connected" line on stderr, then sends SIGINT (a clean stop) and collects the output. */
function untilConnectedThenInterrupt(child: ChildProcess): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`no "connected" line: ${stderr}`));
    }, CONNECTED_WAIT_MS);
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
      // Once only: a second SIGINT would meet Node's default handler, not the command's.
      if (!interrupted && /connected to .*\n/.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ stdout, stderr, status: code });
    });
  });
}
