/**
 * Some suites run the compiled CLI and child processes from dist/. Before any
 * suite runs, make sure dist/ is not older than the sources, so a plain
 * `npx jest` never tests a stale build: unless scripts/build.sh --check finds
 * dist/ built from exactly these sources (its content-hash stamp), compile
 * again when any source is newer than its compiled file. (The stamp first:
 * a checkout that rewrote identical sources makes them newer but not
 * different.) tsc emits even when it finds type errors;
 * those are reported here, and scripts/setup.sh (run by scripts/test.sh)
 * refuses them before any test runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const SOURCE_DIRS = ['common', 'protocol', 'operations', 'domain', 'hsm', 'storage', 'sinks', 'server', 'cli', 'client', 'scripts', 'test/support'];

function* sources(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** True when scripts/build.sh's stamp says dist/ was built from the sources as they are. */
function builtFromTheseSources(): boolean {
  return spawnSync('bash', [join(ROOT, 'scripts/build.sh'), '--check'], { cwd: ROOT, stdio: 'ignore' }).status === 0;
}

function isStale(): boolean {
  if (builtFromTheseSources()) return false;
  for (const dir of SOURCE_DIRS) {
    for (const source of sources(join(ROOT, dir))) {
      const compiled = join(ROOT, 'dist', relative(ROOT, source)).replace(/\.ts$/, '.js');
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) return true;
    }
  }
  return false;
}

export default function globalSetup(): void {
  if (!isStale()) return;
  process.stderr.write('\ndist/ is older than the sources: compiling (tsc) before the tests\n');
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    process.stderr.write('tsc reported type errors (above); the tests run on what it emitted\n');
  }
}
