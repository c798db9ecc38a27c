/**
 * cli/out-file.ts, the one way the CLI writes a file where --out points: no
 * symbolic link followed (a dangling one neither: it would create the file
 * it names), no FIFO, no hard-linked file, 0600 whether new or replaced, and
 * `exclusive` never replaces anything.
 */
import { chmodSync, linkSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNotLink, openOutStream, writeOutFile } from '../../cli/out-file';
import { codeOf } from '../support/error-code';

describe('--out files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-out-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const mode = (path: string): number => statSync(path).mode & 0o777;

  it('writes a new file 0600', () => {
    const path = join(dir, 'new.txt');
    writeOutFile(path, 'hello');
    expect([readFileSync(path, 'utf8'), mode(path)]).toEqual(['hello', 0o600]);
  });

  it('replaces an existing regular file and narrows it to 0600', () => {
    const path = join(dir, 'old.txt');
    writeFileSync(path, 'a much longer old content');
    chmodSync(path, 0o666);
    writeOutFile(path, 'new');
    expect([readFileSync(path, 'utf8'), mode(path)]).toEqual(['new', 0o600]);
  });

  it('refuses a symbolic link, to a file or dangling, and leaves the target as it was', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'keep me', { mode: 0o644 });
    const link = join(dir, 'link');
    symlinkSync(target, link);
    expect(codeOf(() => writeOutFile(link, 'x'))).toBe('OUT_FILE_REFUSED');
    expect(codeOf(() => assertNotLink(link))).toBe('OUT_FILE_REFUSED');
    expect([readFileSync(target, 'utf8'), mode(target)]).toEqual(['keep me', 0o644]);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'would-be-created'), dangling);
    expect(codeOf(() => writeOutFile(dangling, 'x'))).toBe('OUT_FILE_REFUSED');
    expect(existsSync(join(dir, 'would-be-created'))).toBe(false);
    expect(readlinkSync(dangling)).toBe(join(dir, 'would-be-created'));
  });

  it('refuses a file with another hard link, a FIFO and a folder', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'keep me');
    linkSync(target, join(dir, 'hard'));
    expect(codeOf(() => writeOutFile(join(dir, 'hard'), 'x'))).toBe('OUT_FILE_REFUSED');
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(codeOf(() => writeOutFile(join(dir, 'fifo'), 'x'))).toBe('OUT_FILE_REFUSED');
    expect(codeOf(() => assertNotLink(dir))).toBe('OUT_FILE_REFUSED');
  });

  it('exclusive refuses any existing file (INVALID_ARGUMENT) and replaces nothing', () => {
    const path = join(dir, 'client.key');
    writeFileSync(path, 'the old key');
    expect(codeOf(() => writeOutFile(path, 'x', { exclusive: true }))).toBe('INVALID_ARGUMENT');
    expect(readFileSync(path, 'utf8')).toBe('the old key');
  });

  it('streams into a 0600 file', async () => {
    const path = join(dir, 'stream.jsonl');
    writeFileSync(path, 'old');
    chmodSync(path, 0o644);
    const stream = openOutStream(path);
    const closed = once(stream, 'close');
    stream.end('line\n');
    await closed;
    expect([readFileSync(path, 'utf8'), mode(path)]).toEqual(['line\n', 0o600]);
  });
});
