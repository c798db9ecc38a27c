/**
 * The client library as an application outside the repository gets and uses
 * it (issue 16, item 3): `npm pack` of client/ into a temporary folder,
 * a fresh app (`npm init -y`) that installs the tarball offline, the
 * README's JavaScript example run as written with the PEM files `strongroom
 * client issue … --out ./certs` wrote, against a real appliance (SoftHSM2
 * token, SQLite keychain, mutual TLS), and the README's TypeScript examples
 * type-checked against the packed declarations (and a wrong call refused).
 * How the dependencies are provided offline: test/support/client-package.ts.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrongroomClient } from '../../client/strongroom-client';
import { ApprovalRequiredError } from '../../client/client-error';
import { startTestAppliance, TestAppliance, Credentials } from '../support/appliance-fixture';
import { assertCliBuilt, cliAsync } from '../support/cli-runner';
import { checkedExamples, npmPack, PackResult, REPO_NODE_MODULES, repoPackageVersion, requiredPackages, ROOT, runNode, step, STEP_MS, StepRun } from '../support/client-package';

const CLIENT_FOLDER = join(ROOT, 'client');
const APP_NAME = 'payroll-app';
const KEY_NAME = 'hr/payroll';
/** Permissions the README's example needs (the grant is dual-controlled: two other officers approve it). */
const APP_PERMISSIONS = ['get', 'encrypt', 'decrypt', 'generate-data-key', 'decrypt-data-key'];

describe('the client package, installed outside the repository', () => {
  let work: string;
  let appDir: string;
  let packed: PackResult;
  let installedFiles: string[];
  let readme: string;
  let app: TestAppliance;
  const clients: StrongroomClient[] = [];

  const connect = (creds: Credentials): StrongroomClient => {
    const client = new StrongroomClient({ host: '127.0.0.1', port: app.port, ca: creds.caPem, cert: creds.certificatePem, key: creds.privateKeyPem, requestTimeoutMs: 10_000 });
    clients.push(client);
    return client;
  };
  const installedPath = (...parts: string[]): string => join(appDir, 'node_modules', '@strongroom', 'client', ...parts);

  beforeAll(async () => {
    assertCliBuilt();
    work = realpathSync(mkdtempSync(join(tmpdir(), 'strongroom-client-package-')));
    expect(work.startsWith(ROOT)).toBe(false);
    const packDir = join(work, 'tarballs');
    appDir = join(work, 'my-app');
    mkdirSync(packDir);
    mkdirSync(appDir);

    // 1. What the README's "Install" says: pack the client (prepack builds it), and its two dependencies from
    //    the repository's node_modules (no registry here), then install all three offline with an empty cache.
    packed = npmPack(CLIENT_FOLDER, packDir);
    const dependencies = ['ws', 'node-forge'].map((name) => npmPack(join(REPO_NODE_MODULES, name), packDir, { ignoreScripts: true }).tarball);
    step('npm', ['init', '-y'], appDir);
    step('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'empty-npm-cache'), packed.tarball, ...dependencies], appDir);
    installedFiles = listFiles(installedPath());
    readme = readFileSync(installedPath('README.md'), 'utf8');

    // 2. A real appliance; an officer issues the app's certificate with the CLI (`--out` into the app's
    //    ./certs, as the README says) and grants the app's group the example's permissions.
    app = await startTestAppliance();
    const officerFiles = join(work, 'officer');
    mkdirSync(officerFiles);
    writeFileSync(join(officerFiles, 'officer.crt'), app.officer.certificatePem);
    writeFileSync(join(officerFiles, 'officer.key'), app.officer.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(officerFiles, 'ca.pem'), app.officer.caPem);
    const issued = await cliAsync([
      '--data', join(work, 'officer-data'), '--server', `127.0.0.1:${app.port}`,
      '--cert', join(officerFiles, 'officer.crt'), '--key', join(officerFiles, 'officer.key'), '--ca', join(officerFiles, 'ca.pem'),
      '--json', 'client', 'issue', APP_NAME, '--role', 'app', '--groups', 'payroll', '--out', join(appDir, 'certs'),
    ]);
    expect({ status: issued.status, stderr: issued.stderr }).toEqual({ status: 0, stderr: '' });
    const officer = connect(app.officer);
    await officer.create({ name: KEY_NAME });
    const asked = await officer.policyGrant({ group: 'payroll', pattern: 'hr/*', permissions: APP_PERMISSIONS }).catch((err: unknown) => err);
    expect(asked).toBeInstanceOf(ApprovalRequiredError);
    const { requestId, digest } = asked as ApprovalRequiredError;
    for (const approver of app.approvers) await connect(approver).request('ApprovalApprove', { id: requestId, digest });
  }, 6 * 60_000);

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await app?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('packs the built client and nothing of the server, and declares exactly the packages its code requires', () => {
    expect(packed.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/client/index.js', 'dist/client/index.d.ts']));
    expect(packed.files.filter((file) => !/^(package\.json|README\.md|dist\/.+\.(js|d\.ts))$/.test(file))).toEqual([]);
    expect(packed.files.filter((file) => /^dist\/(server|storage|hsm|sinks|cli)\//.test(file))).toEqual([]);
    const manifest = JSON.parse(readFileSync(installedPath('package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const sources = installedFiles.filter((file) => file.endsWith('.js')).map((file) => readFileSync(installedPath(file), 'utf8'));
    expect(requiredPackages(sources)).toEqual(Object.keys(manifest.dependencies).sort());
  });

  it('installs from the tarball into the app folder (a copy, not a link into the repository), with its dependencies beside it', async () => {
    const manifest = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies['@strongroom/client']).toMatch(/^file:.*strongroom-client-\d+\.\d+\.\d+\.tgz$/);
    expect(lstatSync(installedPath()).isSymbolicLink()).toBe(false);
    expect(installedFiles.sort()).toEqual([...packed.files].sort());
    for (const dependency of ['ws', 'node-forge']) {
      const installed = JSON.parse(readFileSync(join(appDir, 'node_modules', dependency, 'package.json'), 'utf8')) as { version: string };
      expect(installed.version).toBe(repoPackageVersion(dependency));
    }
    // The app resolves the package, and everything the package loads, inside its own folder.
    writeFileSync(join(appDir, 'where.js'), "const id = require.resolve('@strongroom/client'); require(id); console.log(JSON.stringify({ id, loaded: Object.keys(require.cache) }));\n");
    const where = await runNode('where.js', appDir, {});
    expect(where.stderr).toBe('');
    const { id, loaded } = JSON.parse(where.stdout) as { id: string; loaded: string[] };
    expect(id).toBe(installedPath('dist', 'client', 'index.js'));
    expect(loaded.filter((file) => !file.startsWith(appDir))).toEqual([]);
  });

  it("runs the README's example as written: gets the key, encrypts and decrypts on the appliance, and unwraps a data key", async () => {
    const example = checkedExamples(readme).get('app.js');
    expect(example).toContain("require('@strongroom/client')");
    writeFileSync(join(appDir, 'app.js'), example as string);
    const run = await runNode('app.js', appDir, { STRONGROOM_PORT: String(app.port) });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^key ${KEY_NAME}: instance \\S+, 32 bytes$`));
    expect(lines[2]).toBe('decrypted: salary: 4200');
    expect(lines[3]).toBe('envelope: a large document');
    // The printed ciphertext is the appliance's: the app's own credentials open it with the repository's client too.
    const ciphertext = Buffer.from(/^ciphertext (\S+) /.exec(lines[1])?.[1] ?? '', 'base64');
    const appClient = connect(credentialsFrom(join(appDir, 'certs')));
    const opened = await appClient.decrypt({ name: KEY_NAME, ciphertext, aad: Buffer.from('employee-17') });
    expect(opened.plaintext.toString('utf8')).toBe('salary: 4200');
    // And the appliance's audit trail holds each operation the example sent, as the app.
    const officer = connect(app.officer);
    const trail = await officer.request<{ events: Array<{ event: { operation: string | null; result: string } }> }>('AuditSearch', { identity: APP_NAME, limit: 100 });
    const done = trail.events.filter((line) => line.event.result === 'ok').map((line) => line.event.operation);
    expect(done).toEqual(expect.arrayContaining(['Get', 'Encrypt', 'Decrypt', 'GenerateDataKey', 'DecryptDataKey']));
  });

  it("reports the appliance's refusal through the packaged error class: a key the app has no grant for is PERMISSION_DENIED", async () => {
    const run = await runNode('app.js', appDir, { STRONGROOM_PORT: String(app.port), STRONGROOM_KEY: 'finance/ledger' });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^strongroom: PERMISSION_DENIED: /);
  });

  it("type-checks the README's TypeScript examples against the packed declarations, and refuses wrong calls", () => {
    const examples = checkedExamples(readme);
    expect([...examples.keys()].sort()).toEqual(['app.js', 'events.ts', 'typed.ts']);
    writeFileSync(join(appDir, 'typed.ts'), examples.get('typed.ts') as string);
    writeFileSync(join(appDir, 'events.ts'), examples.get('events.ts') as string);
    // Each line that must not compile: proof the declarations are real types, not `any`.
    const wrong = [
      "import { StrongroomClient, EventStream } from '@strongroom/client';",
      "const kms = new StrongroomClient({ host: '127.0.0.1', port: 5700, ca: 'PEM', cert: 'PEM', key: 'PEM' });",
      "export const notABuffer = kms.encrypt({ name: 'hr/payroll', plaintext: 'salary' });",
      "export const noPort = new StrongroomClient({ host: '127.0.0.1', ca: 'PEM' });",
      "export const material: Promise<string> = kms.get({ name: 'hr/payroll' }).then((retrieved) => retrieved.material);",
      "export const noSuchOption = EventStream.open({ host: 'h', port: 5701, ca: 'PEM', follow: true });",
    ];
    writeFileSync(join(appDir, 'wrong.ts'), `${wrong.join('\n')}\n`);
    const tsconfig = {
      compilerOptions: {
        strict: true, noEmit: true, target: 'ES2022', module: 'node16', moduleResolution: 'node16',
        types: ['node'], typeRoots: [join(REPO_NODE_MODULES, '@types')], skipLibCheck: true,
      },
      files: ['typed.ts', 'events.ts', 'wrong.ts'],
    };
    writeFileSync(join(appDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const checked: StepRun = step(process.execPath, [join(REPO_NODE_MODULES, 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], appDir, { allowFailure: true });
    const errors = checked.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors.filter((line) => !line.startsWith('wrong.ts('))).toEqual([]);
    const failingLines = [...new Set(errors.map((line) => Number(/^wrong\.ts\((\d+),/.exec(line)?.[1])))].sort((a, b) => a - b);
    expect(failingLines).toEqual([3, 4, 5, 6]);
  }, STEP_MS);
});

/** Relative paths of every file under `dir`. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

/** The credentials in a `client issue --out` folder, as the README's example reads them. */
function credentialsFrom(certs: string): Credentials {
  if (!existsSync(join(certs, `${APP_NAME}.key`))) throw new Error(`${certs} has no ${APP_NAME}.key`);
  return {
    caPem: readFileSync(join(certs, 'ca.pem'), 'utf8'),
    certificatePem: readFileSync(join(certs, `${APP_NAME}.crt`), 'utf8'),
    privateKeyPem: readFileSync(join(certs, `${APP_NAME}.key`), 'utf8'),
  };
}
