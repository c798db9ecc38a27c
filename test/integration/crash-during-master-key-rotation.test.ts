/**
 * SIGKILL during master-key rotation, on a real SoftHSM2 token and a SQLite
 * file, at every step: before and after generating the new version, after
 * preparing the rewraps, inside the rewrap transaction, after its commit,
 * and among the destructions of old versions. After each kill the keychain
 * (share-bound, 2 of 3) still unseals with the HSM and two custodians'
 * shares and every key opens; the HSM-sealed TLS secret opens; a new
 * rotation runs to completion and leaves one master key version, and the
 * keychain unseals again. One round runs without a kill, so a step name that
 * never fires cannot pass for a kill.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { systemClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { masterKeyStatus, rotateMasterKey, RotationStep } from '../../domain/master-key-rotation';
import { getHsmSealedSecret, putHsmSealedSecret } from '../../domain/unseal/hsm-sealed-secrets';
import { decodeShare } from '../../domain/unseal/share-codec';
import { combineShares, makeShareSet } from '../../domain/unseal/split-secret';
import type { HsmPort } from '../../hsm/hsm-port';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';
import { makeSoftHsmFixture, SoftHsmFixture } from '../support/softhsm-fixture';

const CHILD = resolve(__dirname, '../../dist/test/support/rotation-child.js');
const KEYS = 25;
/** Bound on one child run. */
const CHILD_TIMEOUT_MS = 60_000;
const STEPS: RotationStep[] = ['before-generate', 'after-generate', 'after-rewrap-prepared', 'mid-transaction', 'after-commit', 'mid-destroy', 'after-destroy'];
const labelOf = (round: string): string => `sr-rot-${round}`.slice(0, 32);

interface ChildRun {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly steps: string[];
}

function runChild(env: NodeJS.ProcessEnv): Promise<ChildRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal === null) reject(new Error(`rotation child failed (${code}): ${stderr}`));
      else resolveRun({ code, signal, steps: stdout.split('\n').filter((l) => l.startsWith('step ')).map((l) => l.slice(5)) });
    });
  });
}

describe('master-key rotation killed at every step (SoftHSM2, SQLite)', () => {
  let token: SoftHsmFixture;
  const rounds = [...STEPS, 'none'];
  let dir: string;

  beforeAll(async () => {
    token = await makeSoftHsmFixture(labelOf('base'), { extraLabels: rounds.map(labelOf) });
    dir = mkdtempSync(join(tmpdir(), 'strongroom-rotation-crash-'));
  });

  afterAll(async () => {
    await token?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function withHsm<T>(label: string, fn: (hsm: HsmPort) => Promise<T>): Promise<T> {
    const hsm = await token.open(label);
    try {
      return await fn(hsm);
    } finally {
      await hsm.close();
    }
  }

  /** Unseals with two custodians' shares and returns every key's material, base64, by name. */
  async function openEveryKey(store: KeychainStore, hsm: HsmPort, shares: readonly string[], pick: [number, number]): Promise<Map<string, string>> {
    const secret = await combineShares([decodeShare(shares[pick[0]]).bytes, decodeShare(shares[pick[1]]).bytes], 2);
    const keychain = new Keychain({ store, clock: systemClock });
    try {
      await keychain.unseal(hsm, secret);
    } finally {
      secret.fill(0);
    }
    const out = new Map<string, string>();
    for (const key of keychain.listKeys({ limit: 1000 })) {
      const got = keychain.getKey({ fullName: key.fullName });
      out.set(key.fullName, got.material.toString('base64'));
      got.material.fill(0);
    }
    keychain.seal();
    return out;
  }

  it.each(rounds.map((round) => [round]))(
    'killed at %s: the keychain still unseals, and rotating again completes',
    async (round) => {
      const label = labelOf(round);
      const db = join(dir, `${round}.db`);
      const set = await makeShareSet(3, 2);
      let materials = new Map<string, string>();
      const store = openSqliteStore(db);
      try {
        await withHsm(label, async (hsm) => {
          await initializeKeychain(store, hsm, systemClock, randomIds, { secret: set.secret, shares: 3, threshold: 2 });
          const keychain = new Keychain({ store, clock: systemClock });
          await keychain.unseal(hsm, set.secret);
          for (let i = 0; i < KEYS; i++) keychain.createKey({ fullName: `crash/k${i}`, algorithm: 'AES-256' });
          keychain.seal();
          await putHsmSealedSecret(store, hsm, systemClock, 'tls/server-key', Buffer.from('a TLS key'));
          // A first rotation (old versions are kept by default) keeps v1, so the killed one has two old versions to destroy (mid-destroy is a real point).
          await rotateMasterKey(store, hsm);
          materials = await openEveryKey(store, hsm, set.shares, [0, 1]);
        });
        set.secret.fill(0);
        expect(materials.size).toBe(KEYS);

        const run = await runChild({ ...process.env, SR_MODULE: token.modulePath, SR_LABEL: label, SR_PIN: token.userPin, SR_DB: db, SOFTHSM2_CONF: token.softhsmConf, SR_KILL_AT: round === 'none' ? '' : round });
        if (round === 'none') {
          expect(run).toMatchObject({ code: 0, signal: null });
          expect(run.steps).toEqual(STEPS);
        } else {
          expect(run.signal).toBe('SIGKILL');
          expect(run.steps.at(-1)).toBe(round);
        }

        await withHsm(label, async (hsm) => {
          // The next start: nothing the keychain references is missing, and every key opens, with other custodians.
          expect((await masterKeyStatus(store, hsm)).missing).toEqual([]);
          expect(await openEveryKey(store, hsm, set.shares, [1, 2])).toEqual(materials);
          expect((await getHsmSealedSecret(store, hsm, 'tls/server-key'))?.toString()).toBe('a TLS key');
          // Rotating again with destroyOld completes and leaves exactly one version in the token.
          const again = await rotateMasterKey(store, hsm, { destroyOld: true });
          expect(await hsm.listMasterKeyVersions()).toEqual([again.to]);
          expect(await openEveryKey(store, hsm, set.shares, [2, 0])).toEqual(materials);
          expect(await masterKeyStatus(store, hsm)).toMatchObject({ unreferenced: [], missing: [], current: again.to });
        });
      } finally {
        store.close();
      }
    },
    120_000,
  );
});
