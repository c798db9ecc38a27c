/**
 * No keychain copy in the system temp folder (found by the chaos test): a
 * verification's extracted snapshot and a restore request's private copy of
 * its backup are whole keychains, once made under TMPDIR, where a SIGKILLed
 * appliance left them for good. Now they are made in backup_dir (0700),
 * named after their process, and removed once that process is gone at the
 * next start, backup, upload or restore (backup-writer-files.ts). The
 * command line's `backup verify FILE`, with no appliance folder, keeps a
 * private temp folder, removed on SIGINT and SIGTERM too.
 *
 * Real parts: a real appliance (SoftHSM2 token, SQLite, mTLS) makes the
 * backup; the killed verifier is a real process (run from dist/) with its
 * own TMPDIR.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WORK_FILE_PATTERN } from '../../domain/backup/backup-writer-files';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

/** The node:os module the appliance's code calls (a core module: one object for the test and the code under test). */
const nodeOs: typeof import('node:os') = jest.requireActual('node:os');
const CHILD = resolve(__dirname, '../../dist/test/support/verify-kill-child.js');
const CHILD_TIMEOUT_MS = 30_000;

interface Run {
  readonly child: ChildProcess;
  /** Resolves once stdout holds `text`. */
  readonly said: (text: string) => Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
}

function runChild(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; done: () => void }> = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters.filter((w) => stdout.includes(w.text))) waiter.done();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the verify child did not end within ${CHILD_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout });
    });
  });
  const said = (text: string): Promise<void> =>
    new Promise((resolveSaid, reject) => {
      if (stdout.includes(text)) return resolveSaid();
      waiters.push({ text, done: resolveSaid });
      // The child's own bound: should it end without saying so, the wait ends with it.
      void exited.then(() => (stdout.includes(text) ? resolveSaid() : reject(new Error(`the child ended without saying "${text}": ${stdout}${stderr}`))), reject);
    });
  return { child, said, exited };
}

describe('a killed verification leaves no keychain copy in the system temp folder', () => {
  let t: TestAppliance;
  let scratch: string[] = [];
  let backupDir: string;
  let backupName: string;
  let signerFile: string;

  function freshFolder(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    scratch.push(dir);
    return dir;
  }
  const workCopies = (): string[] => readdirSync(backupDir).filter((name) => WORK_FILE_PATTERN.test(name));

  /** A verifier, as the appliance runs it, SIGKILLed with the snapshot extracted: nothing in its TMPDIR, its copy in backup_dir. */
  async function killVerifier(): Promise<void> {
    const childTmp = freshFolder('strongroom-verify-child-tmp-');
    const run = await runChild({ SR_MODE: 'verify', TMPDIR: childTmp, SR_BACKUP: join(backupDir, backupName), SR_WORK: backupDir, SR_SIGNER: signerFile }).exited;
    expect(run).toMatchObject({ signal: 'SIGKILL' });
    expect(run.stdout).toContain('killed with the snapshot extracted');
    expect(readdirSync(childTmp)).toEqual([]);
    expect(workCopies()).toHaveLength(1);
  }

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' });
    const officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'verify/kept', algorithm: 'AES-256' })).error).toBeUndefined();
    backupName = ((await officer.request('BackupCreate', {})).result as { name: string }).name;
    backupDir = join(t.dataDir, 'backups');
    signerFile = join(freshFolder('strongroom-verify-signer-'), 'signer.pem');
    writeFileSync(signerFile, await (await t.appliance.hsm()).signingPublicKey());
  });

  afterAll(async () => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    scratch = [];
    await t?.stop();
  });

  it("SIGKILLed mid-way, its snapshot is in backup_dir, and the server's next start removes it", async () => {
    await killVerifier();
    await t.restart();
    expect(workCopies()).toEqual([]);
    expect(existsSync(join(backupDir, backupName))).toBe(true);
  });

  it('SIGKILLed mid-way, its snapshot is removed by the next backup', async () => {
    await killVerifier();
    const officer = await t.connect(t.officer);
    expect((await officer.request('BackupCreate', {})).error).toBeUndefined();
    expect(workCopies()).toEqual([]);
  });

  it('SIGKILLed mid-way, its snapshot is removed by the next restore request, which makes its own copies in backup_dir', async () => {
    await killVerifier();
    // A system temp folder that does not exist: a restore request that still copied or extracted its backup there would fail. The
    // appliance runs in this process; jest gives the test its own process.env (unseen by node:os), so tmpdir() itself is answered.
    const absent = join(freshFolder('strongroom-verify-no-tmp-'), 'absent');
    const tmpdirSpy = jest.spyOn(nodeOs, 'tmpdir').mockReturnValue(absent);
    let requested;
    try {
      requested = await (await t.connect(t.officer)).request('BackupRestore', { name: backupName, allowOlder: true });
    } finally {
      tmpdirSpy.mockRestore();
    }
    expect(requested.error?.code).toBe('APPROVAL_REQUIRED');
    expect(workCopies()).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)("the command line's private folder goes when the command is stopped by %s", async (signal) => {
    const childTmp = freshFolder('strongroom-verify-cli-tmp-');
    const run = runChild({ SR_MODE: 'cli', TMPDIR: childTmp });
    await run.said('holding');
    expect(readdirSync(childTmp)).toHaveLength(1);
    run.child.kill(signal);
    expect(await run.exited).toMatchObject({ signal });
    expect(readdirSync(childTmp)).toEqual([]);
  });
});
