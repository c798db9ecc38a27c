/**
 * Claims a block of consecutive loopback ports for one cluster run, so two
 * runs at once (two jest workers, a developer's cluster beside CI) never pick
 * the same ports. A block is claimed by creating its lock folder with mkdir,
 * which is atomic; the folder holds the owner's pid, so a block whose owner
 * died without releasing it is taken back. Blocks lie in 20000–29999, below
 * Linux's ephemeral range (32768+), so no outgoing connection holds one of
 * them; each port is still tried with a bind before the block is accepted
 * (something else may listen there).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterHarnessError } from './harness-error';

export interface PortBlock {
  readonly base: number;
  readonly size: number;
  /** The i-th port of the block (0-based). */
  port(i: number): number;
  /** Gives the block back; harmless twice. */
  release(): void;
}

const FIRST_PORT = 20_000;
const LAST_PORT = 29_999;
/** Blocks start on multiples of this; a block may span several steps. */
const STEP = 20;
const MAX_TRIES = 60;
export const PORT_LOCK_DIR = join(tmpdir(), 'strongroom-cluster-ports');

export async function claimPortBlock(size: number, lockDir = PORT_LOCK_DIR): Promise<PortBlock> {
  const span = Math.ceil(size / STEP) * STEP;
  const slots = Math.floor((LAST_PORT - FIRST_PORT + 1 - span) / STEP) + 1;
  mkdirSync(lockDir, { recursive: true });
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const base = FIRST_PORT + STEP * Math.floor(Math.random() * slots);
    const lock = join(lockDir, String(base));
    if (!takeLock(lock)) continue;
    const ports = Array.from({ length: size }, (_, i) => base + i);
    if (await allBindable(ports)) {
      let released = false;
      return {
        base,
        size,
        port: (i) => {
          if (i < 0 || i >= size) throw new ClusterHarnessError(`port ${i} is outside the block of ${size}`);
          return base + i;
        },
        release: () => {
          if (!released) rmSync(lock, { recursive: true, force: true });
          released = true;
        },
      };
    }
    rmSync(lock, { recursive: true, force: true });
  }
  throw new ClusterHarnessError(`no free block of ${size} loopback ports in ${FIRST_PORT}-${LAST_PORT} after ${MAX_TRIES} tries (locks in ${lockDir})`);
}

/** mkdir the lock; a lock whose owner process is gone is removed and taken once. Exported for its test. */
export function takeLock(lock: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'owner.pid'), String(process.pid));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!ownerIsGone(lock)) return false;
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return false;
}

function ownerIsGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'owner.pid'), 'utf8'));
  } catch {
    // No pid yet: its owner is between mkdir and writing it. Leave it be.
    return false;
  }
  return Number.isInteger(pid) && pid > 0 && !processExists(pid);
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function allBindable(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) if (!(await bindable(port))) return false;
  return true;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
