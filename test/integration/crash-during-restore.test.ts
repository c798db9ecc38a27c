/**
 * SIGKILL at each step of a restore's swap (domain/backup/restore-swap.ts)
 * on the real files an approved restore staged (a real appliance on a
 * SoftHSM2 token): whatever step the process dies at, the next open leaves
 * one whole keychain at keychain.db (byte for byte the staged, verified
 * file), the replaced keychain kept whole under its second name, no intent
 * and no staged file left. A restore that died before its intent was
 * recorded, or whose staged file is not the one verified, leaves the
 * current keychain untouched. The restored file then unseals and passes
 * its full trust check.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig } from '../../common/config';
import { fileSha256, finishPendingRestore, readRestoreIntent, RestoreIntent, RestoreStep, RESTORE_INTENT_FILE } from '../../domain/backup/restore-swap';
import { openAppliance } from '../../server/compose/open-appliance';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

const CHILD = resolve(__dirname, '../../dist/test/support/restore-swap-child.js');
const STAGING_CHILD = resolve(__dirname, '../../dist/test/support/restore-staging-child.js');
const CHILD_TIMEOUT_MS = 30_000;
const STEPS: RestoreStep[] = ['intent-written', 'wal-folded', 'old-kept', 'renamed', 'folder-synced'];

function runChild(keychainPath: string, killAt: RestoreStep | null, script = CHILD, env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, SR_KEYCHAIN: keychainPath, SR_KILL_AT: killAt ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the restore child did not end within ${CHILD_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, CHILD_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout });
    });
  });
}

/** Whether `key` (namespace/name) is a row of the keychain file at `path`, read without the appliance; and SQLite's own integrity verdict. */
function inspect(path: string, key: string): { integrity: string; hasKey: boolean } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const [namespace, name] = key.split('/');
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      hasKey: (db.prepare('SELECT count(*) FROM keys WHERE namespace = ? AND name = ?').pluck().get(namespace, name) as number) === 1,
    };
  } finally {
    db.close();
  }
}

describe('SIGKILL during a restore', () => {
  let t: TestAppliance;
  let scratch: string[] = [];
  let intent: RestoreIntent;
  let keychainPath: string;

  beforeAll(async () => {
    t = await startTestAppliance({ audit_checkpoint_interval_ms: '3600000' });
    const officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'crash/kept', algorithm: 'AES-256' })).error).toBeUndefined();
    const made = (await officer.request('BackupCreate', {})).result as { name: string };
    expect((await officer.request('Create', { name: 'crash/later', algorithm: 'AES-256' })).error).toBeUndefined();
    await t.approve(await officer.request('BackupRestore', { name: made.name }));
    await t.server.restartRequested;
    // Stopped, not restarted: the intent and the staged file stay for the children.
    await t.server.close();
    await t.appliance.close();
    keychainPath = join(t.dataDir, 'keychain.db');
    intent = readRestoreIntent(keychainPath) as RestoreIntent;
    expect(intent).not.toBeNull();
    expect(existsSync(`${keychainPath}-wal`)).toBe(false);
  });

  afterAll(async () => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    scratch = [];
    await t?.stop();
  });

  /** A copy of the data folder's keychain, staged file and intent (its paths moved to the copy); `withIntent` false: as if killed before it. */
  function copyState(withIntent = true): { dir: string; keychain: string; intent: RestoreIntent } {
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-crash-restore-'));
    scratch.push(dir);
    const moved: RestoreIntent = { ...intent, staged: join(dir, basename(intent.staged)), keptAs: join(dir, basename(intent.keptAs)) };
    copyFileSync(keychainPath, join(dir, 'keychain.db'));
    copyFileSync(intent.staged, moved.staged);
    if (withIntent) writeFileSync(join(dir, RESTORE_INTENT_FILE), JSON.stringify(moved));
    return { dir, keychain: join(dir, 'keychain.db'), intent: moved };
  }

  it.each(STEPS)('killed at %s, the next open finishes the restore: one whole keychain, the old one kept whole', async (step) => {
    const state = copyState();
    const run = await runChild(state.keychain, step);
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).toContain(`killed at ${step}`);
    expect(finishPendingRestore(state.keychain)).toMatchObject({ outcome: 'restored', keptAs: state.intent.keptAs });
    expect(fileSha256(state.keychain)).toBe(intent.stagedSha256);
    expect(inspect(state.keychain, 'crash/later')).toEqual({ integrity: 'ok', hasKey: false });
    expect(inspect(state.keychain, 'crash/kept')).toEqual({ integrity: 'ok', hasKey: true });
    expect(inspect(state.intent.keptAs, 'crash/later')).toEqual({ integrity: 'ok', hasKey: true });
    expect(readdirSync(state.dir).filter((f) => f.includes('.restore-') || f === RESTORE_INTENT_FILE)).toEqual([]);
  });

  it('killed before its intent was recorded, the staged file is removed and the current keychain is untouched', async () => {
    const state = copyState(false);
    const before = fileSha256(state.keychain);
    expect(finishPendingRestore(state.keychain)).toEqual({ outcome: 'none' });
    expect(fileSha256(state.keychain)).toBe(before);
    expect(readdirSync(state.dir)).toEqual(['keychain.db']);
  });

  it('killed while staging (its file open in WAL mode), the next open removes the staged file with its -wal and -shm', async () => {
    // Found by the chaos test: the staged file was removed but its -wal (pages of a whole keychain) and -shm stayed for good.
    const state = copyState(false);
    const before = fileSha256(state.keychain);
    const run = await runChild(state.keychain, null, STAGING_CHILD, { SR_STAGED: state.intent.staged });
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).toContain('opened at head');
    expect(readdirSync(state.dir).sort()).toEqual(['keychain.db', basename(state.intent.staged), `${basename(state.intent.staged)}-shm`, `${basename(state.intent.staged)}-wal`].sort());
    expect(finishPendingRestore(state.keychain)).toEqual({ outcome: 'none' });
    expect(fileSha256(state.keychain)).toBe(before);
    expect(readdirSync(state.dir)).toEqual(['keychain.db']);
  });

  it('a staged file that is not the one verified is never put in place', async () => {
    const state = copyState();
    const before = fileSha256(state.keychain);
    const bytes = readFileSync(state.intent.staged);
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(state.intent.staged, bytes);
    expect(await runChild(state.keychain, null)).toMatchObject({ code: 0, signal: null });
    expect(fileSha256(state.keychain)).toBe(before);
    expect(readdirSync(state.dir)).toEqual(['keychain.db']);
    expect(inspect(state.keychain, 'crash/later')).toEqual({ integrity: 'ok', hasKey: true });
  });

  it('the restored keychain unseals with the HSM and passes its full trust check', async () => {
    const state = copyState();
    writeFileSync(join(state.dir, 'hsm-user-pin'), readFileSync(join(t.dataDir, 'hsm-user-pin')), { mode: 0o600 });
    const { hsm_module, hsm_token_label, softhsm2_conf } = t.appliance.config.values;
    const config = loadConfig({ dataDir: state.dir, env: {}, flags: { hsm_module: hsm_module as string, hsm_token_label: hsm_token_label as string, softhsm2_conf: softhsm2_conf as string } });
    const appliance = openAppliance(config);
    try {
      expect(appliance.restore).toMatchObject({ outcome: 'restored' });
      await appliance.unseal();
      expect(appliance.keychain.checkTrust()?.counter).toBeGreaterThan(0);
      expect(appliance.keychain.resolveName('crash/kept')).not.toBeNull();
    } finally {
      await appliance.close();
    }
  });
});
