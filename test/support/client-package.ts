/**
 * What an application outside the repository does to get the client
 * library, step by step, for test/client/client-package.test.ts: `npm pack`
 * in client/ (its prepack builds client/dist), `npm init -y` in a fresh
 * folder, `npm install --offline` of the tarball. The machine may not reach
 * a registry, so the client's two dependencies (ws, node-forge) are packed
 * from the repository's node_modules and installed from their tarballs in
 * the same command, with an empty npm cache: nothing can come from a
 * registry or from a cache, and a dependency the client does not declare
 * would not be there.
 *
 * Every step is a child process with a time bound; the synchronous ones run
 * before the test appliance starts (they block this process's event loop).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const REPO_NODE_MODULES = join(ROOT, 'node_modules');
/** Bound on each npm, tsc or node step (a loaded 2-core machine builds the package in about 30 s). */
export const STEP_MS = 150_000;

export interface StepRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of every step: this one without npm's per-run settings
 * (a jest started by `npm test` inherits npm_config_*, which would steer the
 * child npm) and without NODE_PATH (the app must resolve from its own folder).
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'NODE_PATH') env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a step to its end; throws with its output when it fails, unless `allowFailure`. */
export function step(command: string, args: string[], cwd: string, options: { allowFailure?: boolean } = {}): StepRun {
  const result = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: STEP_MS });
  const run = { status: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  if (run.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  }
  return run;
}

/** Runs `node file` in `cwd` without blocking this process (the appliance it talks to runs here). */
export function runNode(file: string, cwd: string, env: NodeJS.ProcessEnv): Promise<StepRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [file], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ status: code ?? -1, stdout, stderr });
    });
  });
}

export interface PackResult {
  readonly tarball: string;
  readonly files: string[];
}

/** `npm pack --json` of `folder` into `destination`: the tarball's path and the files it holds. */
export function npmPack(folder: string, destination: string, options: { ignoreScripts?: boolean } = {}): PackResult {
  const args = ['pack', '--json', '--pack-destination', destination, ...(options.ignoreScripts ? ['--ignore-scripts'] : [])];
  const run = step('npm', args, folder);
  const [packed] = JSON.parse(run.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  return { tarball: join(destination, packed.filename), files: packed.files.map((f) => f.path).sort() };
}

/** The version of a package installed in the repository's node_modules. */
export function repoPackageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_NODE_MODULES, name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The code blocks of a README marked `<!-- checked: FILE … -->` on the line
 * before their fence, by file name: the examples the test runs or compiles
 * exactly as a reader copies them.
 */
export function checkedExamples(readme: string): Map<string, string> {
  const examples = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- checked: (\S+)[^>]*-->\n```[a-z]*\n([\s\S]*?)\n```/g)) examples.set(match[1], `${match[2]}\n`);
  return examples;
}

/** The bare module names (packages, not relative paths) the JavaScript files `sources` require. */
export function requiredPackages(sources: readonly string[]): string[] {
  const names = new Set<string>();
  for (const source of sources) {
    for (const match of source.matchAll(/\brequire\("([^"./][^"]*)"\)/g)) {
      const specifier = match[1];
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      const parts = specifier.split('/');
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
  return [...names].sort();
}
