/**
 * The cluster harness's own parts, without a cluster (the real cluster is
 * test/integration/cluster-failover.test.ts): port blocks never overlap and a
 * dead owner's block is taken back; a run's processes are found by run id
 * and by working folder (postgres's only) and all killed; Patroni's timing
 * rule is enforced; bounded waits fail with what they last saw. Needs root
 * (members run as the postgres user), as the harness does.
 */
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../scripts/cluster/bounded-wait';
import { killRun, postgresUser, runProcesses, spawnMember } from '../../scripts/cluster/member-process';
import { checkTiming } from '../../scripts/cluster/patroni-config';
import { claimPortBlock, takeLock } from '../../scripts/cluster/port-block';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'strongroom-harness-test-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

describe('port blocks', () => {
  it('gives concurrent claims disjoint blocks and takes back a block whose owner died', async () => {
    const locks = join(scratch, 'locks');
    const blocks = await Promise.all(Array.from({ length: 6 }, () => claimPortBlock(12, locks)));
    const ports = blocks.flatMap((b) => Array.from({ length: b.size }, (_, i) => b.port(i)));
    expect(new Set(ports).size).toBe(ports.length);
    blocks.forEach((b) => b.release());

    // A lock held by a live process stays its; one left by a process that is gone (pid 2^22 + 1 is above Linux's pid_max) is taken back.
    const lock = join(locks, '20000');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.pid'), String(process.pid));
    expect(takeLock(lock)).toBe(false);
    writeFileSync(join(lock, 'owner.pid'), String(4_194_305));
    expect(takeLock(lock)).toBe(true);
    expect(readFileSync(join(lock, 'owner.pid'), 'utf8')).toBe(String(process.pid));
  });
});

describe('the processes of a run', () => {
  it('finds members by run id and postgres processes by working folder, leaves root processes there alone, and kills them all', async () => {
    const user = postgresUser();
    const runDir = join(scratch, 'run');
    mkdirSync(join(runDir, 'data'), { recursive: true });
    chownSync(runDir, user.uid, user.gid);
    const marked = spawnMember({ name: 'marked', command: '/bin/sleep', args: ['300'], cwd: '/', logPath: join(scratch, 'm.log'), runId: 'run-a', user, home: '/' });
    // As PostgreSQL does: no marker in its environment, but working in the run's folder.
    const inFolder = spawn('/bin/sleep', ['300'], { cwd: join(runDir, 'data'), uid: user.uid, gid: user.gid, env: {}, stdio: 'ignore' });
    const rootThere = spawn('/bin/sleep', ['300'], { cwd: runDir, env: {}, stdio: 'ignore' });
    const otherRun = spawnMember({ name: 'other', command: '/bin/sleep', args: ['300'], cwd: '/', logPath: join(scratch, 'o.log'), runId: 'run-b', user, home: '/' });
    try {
      const pids = [marked.child.pid, inFolder.pid, rootThere.pid, otherRun.child.pid] as number[];
      await waitFor('the four sleeps to run', async () => (runProcesses('run-a', runDir, user).length === 2 ? true : undefined), { timeoutMs: 10_000 });
      expect(runProcesses('run-a', runDir, user).sort()).toEqual([pids[0], pids[1]].sort());
      await killRun('run-a', runDir, user, 10_000);
      expect(runProcesses('run-a', runDir, user)).toEqual([]);
      expect(rootThere.exitCode).toBeNull();
      expect(otherRun.exit).toBeUndefined();
    } finally {
      for (const child of [marked.child, inFolder, rootThere, otherRun.child]) child.kill('SIGKILL');
    }
  });
});

describe('bounds', () => {
  it("refuses a Patroni timing that breaks loop_wait + 2 × retry_timeout ≤ ttl", () => {
    expect(() => checkTiming({ ttl: 10, loopWait: 1, retryTimeout: 4 })).not.toThrow();
    expect(() => checkTiming({ ttl: 10, loopWait: 3, retryTimeout: 4 })).toThrow(/must not exceed ttl/);
    expect(() => checkTiming({ ttl: 10, loopWait: 0.5, retryTimeout: 4 })).toThrow(/whole positive seconds/);
  });

  it('a wait that never comes true times out with the last state, and a fail-fast reason stops it at once', async () => {
    let polls = 0;
    await expect(waitFor('never', async () => void polls++, { timeoutMs: 300, intervalMs: 50 }, () => `polled ${polls}`)).rejects.toThrow(/timed out after .* waiting for never; last seen: polled \d+/);
    expect(polls).toBeGreaterThan(1);
    expect(polls).toBeLessThanOrEqual(8);
    await expect(waitFor('x', async () => undefined, { timeoutMs: 60_000, failFast: () => 'etcd2 exited' })).rejects.toThrow('etcd2 exited (while waiting for x)');
  });
});
