/**
 * The first officers, as `strongroom init` makes them: quorum + 1 of the
 * officer-issue class (admin, officer-2, officer-3 at the default quorum),
 * keys 0600 in DATA/pki/, one `init` audit event each, the custodians
 * counted as officers, --officers below the quorum refused unless accepted;
 * and, with `strongroom serve` in a child process, officer-2 and officer-3
 * approving admin's dual-controlled issue of another officer over the wire.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApprovalRequiredError, StrongroomClient } from '../../client';
import { generateClientKeyPair } from '../../client/credentials';
import { assertCliBuilt, cli, CliRun as Run, ServingCli, startServe } from '../support/cli-runner';

interface OfficerFile {
  client: string;
  certFile: string;
  keyFile: string;
}

/** The certificate's SHA-256 fingerprint as client records and audit events spell it (lower-case hex). */
function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256.replace(/:/g, '').toLowerCase();
}

describe('the officers strongroom init makes', () => {
  let dir: string;
  let data: string;
  let init: Run;
  const inData = (...args: string[]): Run => cli(['--data', data, '--json', ...args]);

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-init-officers-'));
    data = join(dir, 'data');
    init = cli(['--data', data, 'init', '--demo-token', '--json']);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes quorum + 1 officers (admin, officer-2, officer-3) in DATA/pki, their keys 0600, and lists every file it wrote', () => {
    expect(init.status).toBe(0);
    const officers = init.json.officers as OfficerFile[];
    expect(officers.map((o) => o.client)).toEqual(['admin', 'officer-2', 'officer-3']);
    expect(init.json.officerQuorum).toEqual({ class: 'grant-material', required: 2, officersNeeded: 3 });
    for (const officer of officers) {
      expect(officer.certFile).toBe(join(data, 'pki', `${officer.client}.crt`));
      expect(officer.keyFile).toBe(join(data, 'pki', `${officer.client}.key`));
      expect([officer.client, statSync(officer.keyFile).mode & 0o777]).toEqual([officer.client, 0o600]);
      expect(new X509Certificate(readFileSync(officer.certFile)).subject).toContain(`CN=${officer.client}`);
    }
    const files = init.json.files as string[];
    expect(files).toEqual(expect.arrayContaining([join(data, 'appliance.conf'), join(data, 'keychain.db'), join(data, 'pki', 'ca.pem'), ...officers.flatMap((o) => [o.certFile, o.keyFile])]));
    for (const file of files) expect([file, existsSync(file)]).toEqual([file, true]);
    const clients = inData('client', 'list').json as Array<{ name: string; role: string; fingerprint256: string }>;
    expect(clients.filter((c) => c.role === 'officer').map((c) => c.name).sort()).toEqual(['admin', 'officer-2', 'officer-3']);
  });

  it('records each officer it made as one audit event of type and actor init, with the certificate fingerprint', () => {
    const found = inData('audit', 'search', '--type', 'init');
    expect(found.status).toBe(0);
    const events = (found.json.events as Array<{ event: { type: string; identity: { name: string; role: string }; operation: string; key: string; source: string; result: string; custom: Record<string, string> } }>).map((e) => e.event);
    expect(events.map((e) => e.key)).toEqual(['admin', 'officer-2', 'officer-3']);
    for (const [i, event] of events.entries()) {
      const officer = (init.json.officers as OfficerFile[])[i];
      expect(event).toMatchObject({ type: 'init', identity: { name: 'init', role: 'init' }, operation: 'ClientIssue', source: 'local', result: 'ok', custom: { role: 'officer', fingerprint256: fingerprintOf(officer.certFile) } });
      expect(JSON.stringify(event)).not.toContain('PRIVATE KEY');
    }
    expect(inData('audit', 'verify').json.ok).toBe(true);
  });

  it('sizes the officers by the officer-issue quorum in the config, counting the custodians', () => {
    const other = join(dir, 'quorum-3');
    const run = cli(['--data', other, 'init', '--demo-token', '--shares', '2', '--threshold', '2', '--json'], { STRONGROOM_DUAL_CONTROL_QUORUM: '2, grant-material=3' });
    expect(run.status).toBe(0);
    expect((run.json.officers as OfficerFile[]).map((o) => o.client)).toEqual(['admin', 'custodian-1', 'custodian-2', 'officer-2']);
    expect(run.json.officerQuorum).toEqual({ class: 'grant-material', required: 3, officersNeeded: 4 });
    expect(run.json.shares.map((s: { client: string }) => s.client)).toEqual(['custodian-1', 'custodian-2']);
    for (const officer of run.json.officers as OfficerFile[]) expect(statSync(officer.keyFile).mode & 0o777).toBe(0o600);
  });

  it('refuses --officers below quorum + 1 (INVALID_ARGUMENT, exit 2) before making anything, unless the operator accepts fewer', () => {
    const refused = join(dir, 'refused');
    for (const args of [['--officers', '2'], ['--officers', '0'], ['--officers', 'two'], ['--shares', '3', '--threshold', '2', '--officers', '3']]) {
      const run = cli(['--data', refused, 'init', '--demo-token', ...args, '--json']);
      expect([args.join(' '), run.status, run.json.error.code]).toEqual([args.join(' '), 2, 'INVALID_ARGUMENT']);
      expect(existsSync(refused)).toBe(false);
    }
    expect(cli(['--data', refused, 'init', '--demo-token', '--officers', '2', '--json']).json.error.details).toEqual({ requested: 2, needed: 3 });
    const lab = join(dir, 'lab');
    const accepted = cli(['--data', lab, 'init', '--demo-token', '--officers', '2', '--accept-fewer-officers', '--json']);
    expect(accepted.status).toBe(0);
    expect((accepted.json.officers as OfficerFile[]).map((o) => o.client)).toEqual(['admin', 'officer-2']);
    expect(accepted.stderr).toMatch(/^warning: /m);
    expect(cli(['--data', lab, '--json', 'audit', 'search', '--type', 'init']).json.events).toHaveLength(2);
  });

  it('explains the first officers and --officers in --help', () => {
    const help = cli(['init', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--officers <n>/);
    expect(help.stdout).toMatch(/--accept-fewer-officers/);
  });

  describe('over the wire', () => {
    let server: ServingCli;
    const clients: StrongroomClient[] = [];
    const connect = (cert: string | Buffer, key: string | Buffer): StrongroomClient => {
      const client = new StrongroomClient({ host: '127.0.0.1', port: server.port, ca: readFileSync(join(data, 'pki', 'ca.pem')), cert, key, poolSize: 1 });
      clients.push(client);
      return client;
    };
    const asOfficer = (name: string, ...args: string[]): Run =>
      cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(data, 'pki', `${name}.crt`), '--key', join(data, 'pki', `${name}.key`), '--json', ...args]);

    beforeAll(async () => {
      server = await startServe(data);
    });

    afterAll(async () => {
      for (const client of clients) await client.close();
      await server?.stop();
    });

    it("has officer-2 and officer-3 approve admin's dual-controlled issue of another officer, who can then connect", async () => {
      const admin = connect(readFileSync(join(data, 'pki', 'admin.crt')), readFileSync(join(data, 'pki', 'admin.key')));
      const pair = generateClientKeyPair();
      const asked = await admin.clientIssue({ name: 'officer-4', role: 'officer', publicKeyPem: pair.publicKeyPem }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(asked).toBeInstanceOf(ApprovalRequiredError);
      const { requestId, digest } = asked as ApprovalRequiredError;
      expect((asked as ApprovalRequiredError).details).toMatchObject({ class: 'grant-material', required: 2 });
      // admin cannot approve its own request; the two other officers init made can.
      expect(asOfficer('admin', 'approvals', 'approve', requestId, '--digest', digest).json.error.code).toBe('APPROVAL_SELF_APPROVAL');
      expect(asOfficer('officer-2', 'approvals', 'approve', requestId, '--digest', digest).json.request).toMatchObject({ state: 'pending', approvals: 1 });
      const done = asOfficer('officer-3', 'approvals', 'approve', requestId, '--digest', digest).json.request;
      expect(done).toMatchObject({ state: 'executed', requester: 'admin', approvedBy: ['officer-2', 'officer-3'], result: { client: { name: 'officer-4', role: 'officer' } } });
      const newcomer = connect(done.result.certificatePem as string, pair.privateKeyPem);
      const { clients: listed } = await newcomer.clientList();
      expect(listed.filter((c) => c.role === 'officer').map((c) => c.name).sort()).toEqual(['admin', 'officer-2', 'officer-3', 'officer-4']);
    });
  });
});
