/**
 * A small file system a test mounts itself (tmpfs, as root: CI runs the
 * tests as root too) and fills to the last byte, for full-disk tests on the
 * real write paths. A test that cannot mount fails with a clear message: it
 * never skips.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  readonly dir: string;
  /** Writes a filler file until the file system refuses (ENOSPC); returns its size. */
  fill(): number;
  /** Deletes the filler: the space is free again. */
  free(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `megabytes` on a new temp folder. */
export function mountSmallDisk(megabytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
    throw new Error(`the full-disk test must mount a small tmpfs and could not (run the tests as root, as CI does): ${why}`);
  }
  const filler = join(dir, 'filler');
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        // Big chunks first, then small ones for the last blocks; bounded by the disk's size.
        for (const size of [64 * 1024, 512]) {
          const chunk = Buffer.alloc(size, 0x5a);
          for (let i = 0; i < (megabytes * 1024 * 1024) / size + 1; i++) {
            try {
              written += writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      unlinkSync(filler);
    },
    unmount() {
      if (!mounted) return;
      execFileSync('umount', [dir], { stdio: 'pipe' });
      mounted = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
