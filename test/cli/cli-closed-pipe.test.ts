/**
 * A reader that stops early (`strongroom --help | head -1`) closes the pipe
 * while the CLI is still writing: the CLI must end quietly with its own exit
 * code, not print an unhandled EPIPE stack trace. The pipe is a real FIFO
 * whose reader has closed before the CLI writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, CLI } from '../support/cli-runner';

describe('the CLI writing into a closed pipe', () => {
  beforeAll(() => assertCliBuilt());

  it('ends quietly with the command\'s exit code when the reader has already gone', () => {
    // Deterministic, not a race: a FIFO opened read-write (fd 3) lets the write end (fd 4) open without
    // blocking; closing fd 3 then leaves the pipe with no reader, so the CLI's first write meets EPIPE.
    const dir = mkdtempSync(join(tmpdir(), 'strongroom-pipe-'));
    try {
      const fifo = join(dir, 'out');
      const shell = `mkfifo '${fifo}'; exec 3<>'${fifo}'; exec 4>'${fifo}'; exec 3<&-; node '${CLI}' key create --help >&4; echo "exit=$?"`;
      const result = spawnSync('bash', ['-c', shell], { encoding: 'utf8', timeout: 60_000 });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('exit=0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
