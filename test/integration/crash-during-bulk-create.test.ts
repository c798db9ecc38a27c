/**
 * SIGKILL in the middle of a bulk create: every create the child
 * acknowledged is present afterwards, every key that exists opens with its
 * material intact, and SQLite's integrity check passes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { openSqliteStore } from '../../storage/sqlite-store';
import { makeSoftHsmFixture } from '../support/softhsm-fixture';

const CHILD = resolve(__dirname, '../../dist/test/support/bulk-create-child.js');
/** Acknowledged creates to wait for before the kill; the kill then lands mid-transaction or between. */
const ACKS_BEFORE_KILL = [40, 150, 400];
/** Bound on how long one round waits for the child. */
const ROUND_TIMEOUT_MS = 60_000;

function runUntilAcks(env: NodeJS.ProcessEnv, acksWanted: number): Promise<number[]> {
  return new Promise((resolveAcks, reject) => {
    const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let pending = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), ROUND_TIMEOUT_MS);
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() as string;
      for (const line of lines) {
        if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
      }
      if (acked.length >= acksWanted) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || acked.length < acksWanted) reject(new Error(`child ended early (${signal}); stderr: ${stderr}`));
      else resolveAcks(acked);
    });
  });
}

describe('SIGKILL during a bulk create', () => {
  it('keeps every acknowledged create and a consistent keychain', async () => {
    if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: run \`npx tsc -p tsconfig.json\` (scripts/test.sh does)`);
    const token = await makeSoftHsmFixture('sr-crash');
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-crash-'));
    const dbPath = join(dir, 'keychain.db');
    try {
      const hsm = await token.open();
      const setupStore = openSqliteStore(dbPath);
      await initializeKeychain(setupStore, hsm, systemClock, randomIds);
      setupStore.close();

      const env = { ...process.env, SOFTHSM2_CONF: token.softhsmConf, SR_MODULE: token.modulePath, SR_LABEL: token.label, SR_PIN: token.userPin, SR_DB: dbPath };
      for (const [round, wanted] of ACKS_BEFORE_KILL.entries()) {
        const namespace = `round-${round}`;
        const acked = await runUntilAcks({ ...env, SR_NAMESPACE: namespace }, wanted);

        const raw = new Database(dbPath, { readonly: true });
        expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(raw.pragma('foreign_key_check')).toEqual([]);
        raw.close();

        const store = openSqliteStore(dbPath);
        const keychain = new Keychain({ store, clock: systemClock });
        await keychain.unseal(hsm);
        for (const n of acked) {
          const got = keychain.getKey({ fullName: `${namespace}/k-${n}` });
          expect(got.material).toHaveLength(32);
          expect(got.key.currentVersion).toBe(n % 3 === 0 ? 2 : 1);
        }
        // Whatever else made it to disk is whole: every key opens, every instance of it too.
        for (const key of keychain.listKeys({ limit: 100_000 })) {
          for (const instance of keychain.describeKey(key.fullName).instances) {
            expect(keychain.getKey({ instance: instance.name }).material).toHaveLength(32);
          }
        }
        keychain.seal();
        store.close();
      }
      await hsm.close();
    } finally {
      await token.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
