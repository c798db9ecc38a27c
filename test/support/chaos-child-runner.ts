/**
 * The parent's side of a chaos child (chaos-child.ts): spawn it, wait until
 * its modules are loaded, give it its order, and SIGKILL it at the planned
 * point: a random delay (from the seeded generator) after the order, after
 * `ready`, or after its n-th acknowledgement. Every wait is bounded; a child
 * that exits by itself, or never reaches its kill point, is an error that
 * carries its stderr.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ChaosOrder } from './chaos-scenarios';
import { CHAOS_HSM_TURN } from './chaos-hsm-turn';

export const CHAOS_CHILD = resolve(__dirname, '../../dist/test/support/chaos-child.js');
/** Bound on one child's life (loading, start, and the work up to its kill point). */
const CHILD_TIMEOUT_MS = 60_000;

/** Where the kill lands: `delayMs` after the order, after `ready`, or after the `acks`-th acknowledgement. */
export type KillPoint = { readonly after: 'order' | 'ready'; readonly delayMs: number } | { readonly after: 'acks'; readonly acks: number; readonly delayMs: number };

export interface KilledRun {
  /** Every line the child printed. */
  readonly lines: string[];
  /** Milliseconds from the process's start to its modules loaded, and from its order to `ready` (-1: killed before). */
  readonly loadedMs: number;
  readonly readyMs: number;
}

export interface LoadedChild {
  /** Gives the order and kills the child at `point`; resolves once it is gone. */
  run(order: ChaosOrder, point: KillPoint): Promise<KilledRun>;
  /** Kills a child that will not be used (the lane is done). */
  discard(): void;
}

/** Every child alive, so a failed test kills them all (killAllChaosChildren) instead of leaving them to their timeout. */
const alive = new Set<ChildProcessWithoutNullStreams>();
let stopped = false;

/** Kills every child and refuses new ones (the test is over, or failed). */
export function killAllChaosChildren(): void {
  stopped = true;
  for (const child of alive) child.kill('SIGKILL');
}

/** Spawns a child that loads its modules and waits for its order; resolves once it says `loaded`. */
export function spawnChaosChild(env: NodeJS.ProcessEnv): Promise<LoadedChild> {
  if (stopped) return Promise.reject(new Error('the chaos test is over: no new child'));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CHAOS_CHILD], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  alive.add(child);
  const lines: string[] = [];
  let pending = '';
  let stderr = '';
  let onLine: (line: string) => void = () => undefined;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let onExit: () => void = () => undefined;
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop() as string;
    for (const line of complete) {
      lines.push(line);
      onLine(line);
    }
  });
  child.stdin.on('error', () => undefined);
  // A child that dies inside a marked section (its run failed) must not keep the other lanes from the HSM.
  let releaseTurn = (): void => undefined;
  child.on('exit', (code, signal) => {
    alive.delete(child);
    releaseTurn();
    clearTimeout(timer);
    exited = { code, signal };
    onExit();
  });
  const gone = (): Promise<void> => new Promise((done) => (exited ? done() : (onExit = done)));
  const why = (): string => `chaos child ended (${exited?.code}/${exited?.signal}) before its kill point; stdout: ${lines.slice(-3).join(' | ')}; stderr: ${stderr}`;

  return new Promise((resolveLoaded, reject) => {
    onExit = () => reject(new Error(why()));
    onLine = (line) => {
      if (!line.startsWith('loaded ')) return;
      const loadedMs = Number(line.slice(7));
      onExit = () => undefined;
      resolveLoaded({
        discard: () => child.kill('SIGKILL'),
        run: async (order, point) => {
          let killed = false;
          let acks = 0;
          let readyMs = -1;
          // While the child logs in to SoftHSM2 and unseals (or closes its HSM session before a restart), a kill that
          // falls due is held until it says `unsealed` (or `hsm-done`) (chaos-child-session.ts: SoftHSM2 rewrites its
          // token files in place, and a kill inside one can lose the token). The child also marks each call that writes to
          // the token; the marks nest (a login's unseal writes the anchor), so they are counted.
          let inHsm = 0;
          let held = false;
          const killNow = (): void => {
            killed = true;
            child.kill('SIGKILL');
          };
          const killAfter = (delayMs: number): void => {
            setTimeout(() => (inHsm > 0 ? (held = true) : killNow()), delayMs);
          };
          // The outermost mark takes the lanes' shared HSM turn before its `go` (chaos-hsm-turn.ts); each `go` is written
          // in the order of its mark, after the turn is taken, so a nested mark never lets an outer one start early.
          let answers: Promise<void> = Promise.resolve();
          let release: (() => void) | null = null;
          releaseTurn = () => release?.();
          onLine = (l) => {
            if (l === 'hsm') {
              inHsm += 1;
              answers = answers.then(async () => {
                if (release === null) {
                  const taken = await CHAOS_HSM_TURN.take();
                  // Dead meanwhile (killed before its mark was read, or failed): the turn goes straight back.
                  if (exited) return taken();
                  release = taken;
                }
                child.stdin.write('go\n');
              });
            } else if (l === 'unsealed' || l === 'hsm-done') {
              inHsm -= 1;
              if (inHsm === 0) {
                answers = answers.then(() => {
                  release?.();
                  release = null;
                });
              }
              if (held && inHsm === 0) killNow();
            } else if (l.startsWith('ready ')) {
              readyMs = Number(l.slice(6));
              if (point.after === 'ready') killAfter(point.delayMs);
            } else if (l.startsWith('ack ') && point.after === 'acks' && ++acks === point.acks) killAfter(point.delayMs);
          };
          child.stdin.write(`${JSON.stringify(order)}\n`);
          if (point.after === 'order') killAfter(point.delayMs);
          await gone();
          if (!killed || exited?.signal !== 'SIGKILL') throw new Error(why());
          return { lines: [...lines], loadedMs, readyMs };
        },
      });
    };
  });
}
