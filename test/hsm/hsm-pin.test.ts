import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHsmPin } from '../../hsm/hsm-pin';
import { codeOf } from '../support/error-code';

describe('reading the HSM PIN', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-pin-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string, mode = 0o600): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode });
    chmodSync(path, mode);
    return path;
  };

  it('reads a private PIN file without its trailing newline', () => {
    const source = readHsmPin(write('pin', '123456\n'), {});
    expect(source).toEqual({ pin: Buffer.from('123456'), from: 'file' });
  });

  it('prefers the environment and removes the variable once read', () => {
    const env: NodeJS.ProcessEnv = { STRONGROOM_HSM_PIN: '9999' };
    expect(readHsmPin(join(dir, 'absent'), env).pin.toString()).toBe('9999');
    expect(env.STRONGROOM_HSM_PIN).toBeUndefined();
  });

  it.each([
    ['a missing file', () => join(dir, 'absent')],
    ['an empty file', () => write('empty', '\n')],
    ['a group-readable file', () => write('loose', '1234', 0o640)],
    ['a world-readable file', () => write('world', '1234', 0o604)],
    ['a symbolic link', () => {
      const target = write('target', '1234');
      symlinkSync(target, join(dir, 'link'));
      return join(dir, 'link');
    }],
    ['a directory', () => {
      mkdirSync(join(dir, 'sub'));
      return join(dir, 'sub');
    }],
    ['a FIFO (which would block a plain read)', () => {
      execFileSync('mkfifo', ['-m', '600', join(dir, 'fifo')]);
      return join(dir, 'fifo');
    }],
    ['an oversized file', () => write('big', 'x'.repeat(1000))],
  ])('refuses %s with HSM_PIN_MISSING', (_what, make) => {
    const path = make();
    expect(codeOf(() => readHsmPin(path, {}))).toBe('HSM_PIN_MISSING');
  });
});
