/**
 * Dropped material must not outlive a crash in the WAL. The store scrubs
 * the WAL (a TRUNCATE checkpoint) after the commit that dropped material,
 * but a reader can hold that checkpoint off (it is then retried after the
 * next write of the same process), and a kill can land before it: the WAL
 * then still holds the destroyed instance's sealed material, and the
 * process that knew a scrub was pending is gone. The next open of the file
 * scrubs whatever a crash may have left, before it serves anything.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSqliteStore } from '../../storage/sqlite-store';
import { material } from './store-fixtures';

const CHILD = resolve(__dirname, '../../dist/test/support/scrub-crash-child.js');
const PATTERN = material('k1-i1');
/** Bound on the child's run. */
const CHILD_TIMEOUT_MS = 30_000;

function holding(file: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const f of [file, `${file}-wal`]) out[f.endsWith('-wal') ? 'wal' : 'db'] = existsSync(f) && readFileSync(f).includes(PATTERN);
  return out;
}

/** Runs the child until it has dropped the material, then SIGKILLs it. */
function dropThenKill(db: string): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CHILD], { env: { ...process.env, SR_DB: db }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('dropped\n')) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && stdout.includes('dropped\n')) resolveRun();
      else reject(new Error(`the child ended without dropping (${signal}): ${stderr}`));
    });
  });
}

describe('dropped material after a crash', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-scrub-crash-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is scrubbed from the WAL by the next open, before anything is served', async () => {
    if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run \`npx tsc -p tsconfig.json\``);
    const file = join(dir, 'keychain.db');
    await dropThenKill(file);
    // Control: the crash left the dropped bytes in the WAL (a reader held the scrub off).
    expect(holding(file)).toEqual({ db: false, wal: true });
    const store = openSqliteStore(file);
    try {
      expect(holding(file)).toEqual({ db: false, wal: false });
      expect(store.getInstanceById('k1-i1')?.sealedMaterial).toBeNull();
      expect(store.getInstanceById('k2-i1')?.sealedMaterial).toEqual(material('k2-i1'));
    } finally {
      store.close();
    }
  });
});
