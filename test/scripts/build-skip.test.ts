/**
 * scripts/build.sh decides whether dist/ must be compiled again. Run on a
 * temporary copy of the script in a small project of its own (a tsconfig, a
 * lock file and two .ts files), never on the real
 * tree: a changed source, tsconfig or lock file triggers a build; an
 * unchanged tree, a touched-but-identical source or a non-source change
 * does not; a failed build leaves no stamp behind. The compiler is a stand-in
 * (TSC_COMMAND) that counts its runs, copies each src/*.ts to dist/src/*.js
 * and fails, as tsc does, on a source marked as a type error: the decision is
 * what is tested, and "skipped" means the compiler did not run, not that a
 * message said so. (The real tsc runs behind it in every scripts/setup.sh.)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

interface BuildRun {
  status: number;
  output: string;
}

describe('scripts/build.sh: compile only when the sources changed', () => {
  let project: string;

  const tscRuns = (): number => (existsSync(join(project, 'tsc-runs.log')) ? readFileSync(join(project, 'tsc-runs.log'), 'utf8').split('\n').filter(Boolean).length : 0);
  const build = (...args: string[]): BuildRun => {
    const result = spawnSync('bash', ['scripts/build.sh', ...args], {
      cwd: project,
      env: { ...process.env, TSC_COMMAND: 'bash stand-in-tsc.sh' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
  };
  const write = (path: string, text: string): void => writeFileSync(join(project, path), text);
  const compiled = (): string => readFileSync(join(project, 'dist/src/greeting.js'), 'utf8');

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'strongroom-build-'));
    mkdirSync(join(project, 'scripts'));
    mkdirSync(join(project, 'src'));
    copyFileSync(join(ROOT, 'scripts/build.sh'), join(project, 'scripts/build.sh'));
    write(
      'stand-in-tsc.sh',
      ['echo ran >> tsc-runs.log', 'mkdir -p dist/src', 'for f in src/*.ts; do b=$(basename "$f" .ts); cp "$f" "dist/src/$b.js"; done', '! grep -l TYPE_ERROR src/*.ts'].join('\n'),
    );
    write('tsconfig.json', JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, rootDir: '.', outDir: 'dist', types: [] }, include: ['src'] }));
    write('package-lock.json', '{"lockfileVersion": 3}\n');
    write('README.md', 'not a source\n');
    write('src/greeting.ts', "export const greeting: string = 'hello';\n");
    write('src/other.ts', 'export const answer: number = 42;\n');
  });

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('builds a tree it never built, and records the sources it built', () => {
    expect(build('--check')).toMatchObject({ status: 1, output: expect.stringMatching(/needed: no record of a previous build/) });
    const first = build();
    expect(first.status).toBe(0);
    expect(first.output).toMatch(/compiling TypeScript/);
    expect(tscRuns()).toBe(1);
    expect(compiled()).toMatch(/'hello'/);
    expect(readFileSync(join(project, 'dist/.source-sha256'), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it('skips the build when nothing changed, and says so', () => {
    expect(build('--check')).toMatchObject({ status: 0, output: expect.stringMatching(/up to date/) });
    const again = build();
    expect(again.status).toBe(0);
    expect(again.output).toMatch(/unchanged since the last build: not compiling/);
    expect(tscRuns()).toBe(1);
  });

  it('judges by content, not modification time: a touched identical source or a changed non-source builds nothing', () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(project, 'src/greeting.ts'), later, later);
    write('README.md', 'still not a source, but changed\n');
    expect(build()).toMatchObject({ status: 0, output: expect.stringMatching(/not compiling/) });
    expect(tscRuns()).toBe(1);
  });

  it('builds when a source changes, and then skips again', () => {
    write('src/greeting.ts', "export const greeting: string = 'bonjour';\n");
    expect(build('--check')).toMatchObject({ status: 1, output: expect.stringMatching(/sources changed/) });
    expect(build().status).toBe(0);
    expect(tscRuns()).toBe(2);
    expect(compiled()).toMatch(/'bonjour'/);
    expect(build().output).toMatch(/not compiling/);
    expect(tscRuns()).toBe(2);
  });

  it.each([
    ['src/extra.ts (a new file)', () => write('src/extra.ts', 'export const extra = 1;\n')],
    ['tsconfig.json', () => write('tsconfig.json', readFileSync(join(project, 'tsconfig.json'), 'utf8').replace('"strict":true', '"strict":true,"noUnusedLocals":true'))],
    ['package-lock.json', () => write('package-lock.json', '{"lockfileVersion": 3, "changed": true}\n')],
  ])('builds when %s changes', (_what, change) => {
    const before = tscRuns();
    change();
    expect(build('--check').status).toBe(1);
    expect(build().status).toBe(0);
    expect(tscRuns()).toBe(before + 1);
  });

  it('builds again when dist/ was compiled outside the script since its last build', () => {
    const before = tscRuns();
    const later = new Date(Date.now() + 120_000);
    utimesSync(join(project, 'dist/src/other.js'), later, later);
    expect(build('--check')).toMatchObject({ status: 1, output: expect.stringMatching(/compiled again outside/) });
    expect(build().status).toBe(0);
    expect(tscRuns()).toBe(before + 1);
  });

  it('fails on a type error, keeps no stamp, and tries again on the next run', () => {
    const before = tscRuns();
    write('src/greeting.ts', 'export const greeting: string = 42; // TYPE_ERROR\n');
    expect(build().status).not.toBe(0);
    expect(existsSync(join(project, 'dist/.source-sha256'))).toBe(false);
    expect(build().status).not.toBe(0);
    expect(tscRuns()).toBe(before + 2);
    write('src/greeting.ts', "export const greeting: string = 'hello again';\n");
    expect(build().status).toBe(0);
    expect(build().output).toMatch(/not compiling/);
    expect(tscRuns()).toBe(before + 3);
  });
});
