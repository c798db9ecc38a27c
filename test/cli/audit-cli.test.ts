/**
 * The compiled CLI's audit search, export, verify --from-file and report,
 * as users run them: `strongroom serve` in a child process, an auditor's
 * and an app's certificates issued by the CLI, the app's requests leaving
 * the events, then the commands locally and with --server. Asserts on
 * exit codes, JSON documents and exact figures. The app's grant gives key
 * material, so it is dual-controlled: the two other officers init made
 * (officer-2, officer-3) approve it.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli as runCli, CliRun as Run, ServingCli, startServe } from '../support/cli-runner';

const cli = (args: string[], input?: string): Run => runCli(args, {}, input);

describe('strongroom audit and report commands', () => {
  let dir: string;
  let data: string;
  let server: ServingCli;
  let local: (...args: string[]) => Run;
  let asOfficer: (...args: string[]) => Run;
  let asAuditor: (...args: string[]) => Run;
  let asApp: (...args: string[]) => Run;
  let asOfficer2: (...args: string[]) => Run;
  let asOfficer3: (...args: string[]) => Run;
  /** The payroll grant's dual-control request (its id and digest from the exit-12 answer). */
  let grantRequest: { requestId: string; digest: string };
  const file = (name: string): string => join(dir, name);

  beforeAll(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-audit-cli-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
    server = await startServe(data);
    const remote = (cert: string | null, folder = join(dir, 'certs')) => (...args: string[]): Run =>
      cli(['--data', data, '--server', `127.0.0.1:${server.port}`, ...(cert ? ['--cert', join(folder, `${cert}.crt`), '--key', join(folder, `${cert}.key`)] : []), '--json', ...args]);
    local = (...args) => cli(['--data', data, '--json', ...args]);
    asOfficer = remote(null);
    asAuditor = remote('auditor-1');
    asApp = remote('payroll-app');
    asOfficer2 = remote('officer-2', join(data, 'pki'));
    asOfficer3 = remote('officer-3', join(data, 'pki'));
    expect(asOfficer('key', 'create', 'hr/payroll').status).toBe(0);
    expect(asOfficer('key', 'create', 'crm/pii').status).toBe(0);
    expect(asOfficer('client', 'issue', 'auditor-1', '--role', 'auditor', '--out', join(dir, 'certs')).status).toBe(0);
    expect(asOfficer('client', 'issue', 'payroll-app', '--role', 'app', '--groups', 'payroll', '--out', join(dir, 'certs')).status).toBe(0);
    const grant = asOfficer('policy', 'grant', '--group', 'payroll', '--pattern', 'hr/*', '--permissions', 'get');
    expect([grant.status, grant.json.error.code]).toEqual([12, 'APPROVAL_REQUIRED']);
    grantRequest = grant.json.error.details;
    expect(asOfficer2('approvals', 'approve', grantRequest.requestId, '--digest', grantRequest.digest).json.request.state).toBe('pending');
    expect(asOfficer3('approvals', 'approve', grantRequest.requestId, '--digest', grantRequest.digest).json.request.state).toBe('executed');
    expect(asApp('key', 'get', 'hr/payroll').status).toBe(0);
    expect(asApp('key', 'get', 'hr/payroll').status).toBe(0);
    expect(asApp('key', 'get', 'crm/pii').status).toBe(10);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('teaches each command with --help and examples', () => {
    for (const sub of [['audit', 'search'], ['audit', 'export'], ['audit', 'verify'], ['report']]) {
      const help = cli([...sub, '--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/Examples:/);
    }
    expect(cli(['audit', 'export', '--help']).stdout).toMatch(/FILTERED export/);
  });

  it('searches locally and over the wire as an auditor, with the same answers', () => {
    const remote = asAuditor('audit', 'search', '--identity', 'payroll-app', '--operation', 'Get');
    expect(remote.status).toBe(0);
    expect(remote.json.events.map((e: { event: { key: string; result: string } }) => [e.event.key, e.event.result])).toEqual([
      ['hr/payroll', 'ok'], ['hr/payroll', 'ok'], ['crm/pii', 'PERMISSION_DENIED'],
    ]);
    const localRun = local('audit', 'search', '--identity', 'payroll-app', '--operation', 'Get');
    expect(localRun.json.events).toEqual(remote.json.events);
    const crmRefusals = local('audit', 'search', '--key-name', 'crm/*', '--result', 'error');
    expect(crmRefusals.json.events.map((e: { event: { key: string; result: string } }) => [e.event.key, e.event.result])).toEqual([['crm/pii', 'PERMISSION_DENIED']]);
    // Over the wire too (--key-name is the filter; --key stays the client key file).
    const payrollGets = asAuditor('audit', 'search', '--key-name', 'hr/payroll', '--operation', 'Get');
    expect(payrollGets.json.events.map((e: { event: { identity: { name: string } } }) => e.event.identity.name)).toEqual(['payroll-app', 'payroll-app']);
    expect(asAuditor('audit', 'search', '--key-name', 'nothing/*').json.events).toEqual([]);
    const page = local('audit', 'search', '--limit', '2');
    expect(page.json.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2]);
    expect(page.json.nextSeq).toBe(3);
    expect(local('audit', 'search', '--limit', '2', '--from-seq', '3').json.events.map((e: { seq: number }) => e.seq)).toEqual([3, 4]);
    const human = cli(['--data', data, 'audit', 'search', '--identity', 'payroll-app', '--result', 'PERMISSION_DENIED']);
    expect(human.stdout.trim().split('\n')).toHaveLength(1);
    expect(human.stdout).toMatch(/payroll-app .*Get {2}crm\/pii {2}PERMISSION_DENIED/);
  });

  it('refuses audit reading to an app with exit 10, and bad flags with exit 2', () => {
    for (const args of [['audit', 'search'], ['audit', 'verify'], ['report']]) {
      const run = asApp(...args);
      expect(run.status).toBe(10);
      expect(run.json.error.code).toBe('PERMISSION_DENIED');
    }
    expect(local('audit', 'search', '--from', 'yesterday').status).toBe(2);
    expect(local('audit', 'search', '--limit', '0').status).toBe(2);
    expect(local('report', '--format', 'pdf').status).toBe(2);
    expect(local('audit', 'export').json.error.code).toBe('INVALID_ARGUMENT');
  });

  it('exports (over the wire, byte for byte the local export) and verify --from-file passes', () => {
    const remoteRun = asAuditor('audit', 'export', '--out', file('remote.jsonl'));
    expect(remoteRun.status).toBe(0);
    expect(remoteRun.json).toMatchObject({ firstSeq: 1, filtered: false, verifiable: true });
    expect(statSync(file('remote.jsonl')).mode & 0o077).toBe(0);
    const localRun = local('audit', 'export', '--out', file('local.jsonl'));
    const remoteLines = readFileSync(file('remote.jsonl'), 'utf8').trimEnd().split('\n');
    const localLines = readFileSync(file('local.jsonl'), 'utf8').trimEnd().split('\n');
    expect(remoteLines).toHaveLength(remoteRun.json.exported);
    // The local export ran later and holds the remote export's own events too.
    expect(localLines.slice(0, remoteLines.length)).toEqual(remoteLines);
    const verdict = local('audit', 'verify', '--from-file', file('local.jsonl'));
    expect(verdict.status).toBe(0);
    expect(verdict.json).toMatchObject({ ok: true, events: localRun.json.exported, firstSeq: 1, start: 'genesis' });
    const stdin = cli(['--json', 'audit', 'verify', '--from-file', '-'], readFileSync(file('local.jsonl'), 'utf8'));
    expect(stdin.json).toMatchObject({ ok: true, events: localRun.json.exported });
    // Plain stdout export, no --out: the same lines.
    expect(cli(['--data', data, 'audit', 'export', '--to', '2999-01-01', '--from-seq', '1']).stdout.split('\n').slice(0, 3)).toEqual(localLines.slice(0, 3));
  });

  it('names the event when one line of the export is deleted, edited or moved (exit 7)', () => {
    const lines = readFileSync(file('local.jsonl'), 'utf8').trimEnd().split('\n');
    const tamper = (name: string, changed: string[]): Run => {
      writeFileSync(file(name), `${changed.join('\n')}\n`);
      return local('audit', 'verify', '--from-file', file(name));
    };
    const deleted = tamper('deleted.jsonl', [...lines.slice(0, 4), ...lines.slice(5)]);
    expect(deleted.status).toBe(7);
    expect(deleted.json).toMatchObject({ ok: false, firstBadSeq: 5, line: 5 });
    expect(deleted.json.reason).toMatch(/^event 5 is missing/);
    // The first request over the wire: init's officer issues before it say "local", the server start has no source.
    const first = lines.findIndex((l) => /"source":"(?!local")[^"]+"/.test(l));
    expect(first).toBeGreaterThan(0);
    const edited = [...lines];
    edited[first] = edited[first].replace(/"source":"[^"]*"/, '"source":"10.6.6.6"');
    expect(edited[first]).not.toBe(lines[first]);
    expect(tamper('edited.jsonl', edited).json).toMatchObject({ ok: false, firstBadSeq: first + 1, line: first + 1, reason: `event ${first + 1} was altered` });
    const moved = [...lines];
    [moved[5], moved[6]] = [moved[6], moved[5]];
    const reordered = tamper('moved.jsonl', moved);
    expect(reordered.status).toBe(7);
    expect(reordered.json).toMatchObject({ ok: false, firstBadSeq: 6, line: 6 });
    const human = cli(['audit', 'verify', '--from-file', file('deleted.jsonl')]);
    expect(human.status).toBe(7);
    expect(human.stdout).toMatch(/BROKEN at event 5 \(line 5\)/);
  });

  it('refuses a truncated or malformed file with exit 2 and the line', () => {
    const text = readFileSync(file('local.jsonl'), 'utf8');
    writeFileSync(file('truncated.jsonl'), text.slice(0, text.length - 40));
    const truncated = local('audit', 'verify', '--from-file', file('truncated.jsonl'));
    expect(truncated.status).toBe(2);
    expect(truncated.json.error.code).toBe('INVALID_ARGUMENT');
    expect(truncated.json.error.message).toMatch(new RegExp(`^line ${text.trimEnd().split('\n').length}:`));
    writeFileSync(file('junk.jsonl'), `${text.split('\n')[0]}\nnot json\n`);
    expect(local('audit', 'verify', '--from-file', file('junk.jsonl')).json.error.message).toMatch(/^line 2:/);
    expect(local('audit', 'verify', '--from-file', file('missing.jsonl')).status).toBe(2);
  });

  it('a filtered export reports its first gap; a range export verifies from its first line, and against the keychain', () => {
    const filtered = local('audit', 'export', '--identity', 'payroll-app', '--out', file('filtered.jsonl'));
    expect(filtered.json).toMatchObject({ filtered: true, verifiable: false });
    const toStdout = cli(['--data', data, 'audit', 'export', '--key-name', 'hr/*', '--operation', 'Get']);
    expect(toStdout.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).event.key)).toEqual(['hr/payroll', 'hr/payroll']);
    expect(toStdout.stderr).toMatch(/filtered export/);
    const gap = local('audit', 'verify', '--from-file', file('filtered.jsonl'));
    expect(gap.status).toBe(7);
    expect(gap.json.reason).toMatch(/^event \d+ is missing/);
    expect(local('audit', 'export', '--from-seq', '4', '--out', file('range.jsonl')).json.firstSeq).toBe(4);
    expect(local('audit', 'verify', '--from-file', file('range.jsonl')).json).toMatchObject({ ok: true, firstSeq: 4, start: 'file' });
    expect(local('audit', 'verify', '--from-file', file('range.jsonl'), '--against-keychain').json).toMatchObject({ ok: true, start: 'keychain', comparedWithKeychain: true });
    expect(asAuditor('audit', 'verify', '--from-file', file('range.jsonl'), '--against-keychain').status).toBe(2);
  });

  it('verifies the keychain chain locally and as an auditor', () => {
    expect(local('audit', 'verify').json).toMatchObject({ ok: true });
    expect(asAuditor('audit', 'verify').json).toMatchObject({ ok: true });
  });

  it('writes the report in all three formats with the scenario figures, as an auditor and locally', () => {
    const json = asAuditor('report', '--format', 'json');
    expect(json.status).toBe(0);
    const row = json.json.access.rows.find((r: { identity: string; key: string; operation: string }) => r.identity === 'payroll-app' && r.key === 'hr/payroll' && r.operation === 'Get');
    expect(row).toMatchObject({ allowed: 2, refused: 0 });
    const refused = json.json.access.rows.find((r: { identity: string; key: string }) => r.identity === 'payroll-app' && r.key === 'crm/pii');
    expect(refused).toMatchObject({ allowed: 0, refused: 1, refusals: { PERMISSION_DENIED: 1 } });
    expect(json.json.keys).toMatchObject({ total: 2, byAlgorithm: { 'AES-256': 2 } });
    expect(json.json.chain.ok).toBe(true);
    const md = asAuditor('report', '--format', 'md', '--out', file('report.md'));
    expect(md.json).toMatchObject({ format: 'md', keys: 2, chainOk: true });
    const mdText = readFileSync(file('report.md'), 'utf8');
    expect(mdText).toContain('| hr/payroll | payroll-app | app | — | Get | 2 | 0 | — |');
    expect(mdText).toContain('| crm/pii | payroll-app | app | — | Get | 0 | 1 | PERMISSION\\_DENIED 1 |');
    // The payroll grant was dual-controlled: the section is there and does not claim there were none.
    expect(mdText).toContain('## Dual control');
    expect(mdText).not.toContain('Dual-control requests: none in the period.');
    expect(asAuditor('report', '--format', 'html', '--out', file('report.html')).status).toBe(0);
    const html = readFileSync(file('report.html'), 'utf8');
    expect(html).toContain('<td>hr/payroll</td><td>payroll-app</td><td>app</td><td>—</td><td>Get</td><td class="n">2</td><td class="n">0</td>');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script/i);
    // Locally (the demo token unseals the keychain for the inventory): the same inventory.
    const localReport = local('report');
    expect(localReport.status).toBe(0);
    expect(localReport.json.keys.items.map((k: { name: string }) => k.name).sort()).toEqual(['crm/pii', 'hr/payroll']);
    expect(cli(['--data', data, 'report', '--format', 'md']).stdout).toMatch(/^# Strongroom compliance report/);
  });

  it('lists the payroll grant\'s dual-control request in the report, with its requester and outcome', () => {
    const json = asAuditor('report', '--format', 'json');
    expect(json.status).toBe(0);
    expect(json.json.dualControl.requests).toEqual([expect.objectContaining({ requestId: grantRequest.requestId, operation: 'PolicyGrant', requester: 'admin', outcome: 'executed' })]);
    expect(json.json.dualControl.byOutcome).toEqual({ executed: 1 });
    expect(asAuditor('report', '--format', 'md', '--out', file('report-dual-control.md')).status).toBe(0);
    const md = readFileSync(file('report-dual-control.md'), 'utf8');
    expect(md).toContain(`| ${grantRequest.requestId} | PolicyGrant | — | admin | executed |`);
  });
});
