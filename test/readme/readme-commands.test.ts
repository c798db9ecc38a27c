/**
 * The README's commands run as written, in order, on a freshly made demo.
 *
 * The convention (stated in the README): every fenced block marked ```sh is
 * run, line by line, in one bash session (so its `export` carries on); a
 * command exits 0 unless its comment says `# exits N`. Blocks that are shown
 * but not run are fenced without `sh` (the opening `bash scripts/demo.sh` /
 * `bash scripts/test.sh`, which this test stands for, and the TypeScript
 * example); a block that shows an `npx strongroom` command must be ```sh.
 *
 * The commands `scripts/demo.sh` prints for trying it out "in another
 * terminal" follow the same convention and are run after the README's.
 *
 * How the fresh demo is made: `scripts/demo.sh --no-serve DIR` in a temporary
 * folder laid out like the repository (package.json, dist and node_modules
 * linked), so `$PWD/demo-data` and `npx strongroom` (the package's own bin)
 * mean there what they mean in a checkout; then `strongroom serve --port 0`
 * in the background, as the demo would serve. The one rewrite: the README's
 * `127.0.0.1:5700` becomes the port the server got, and the event stream's
 * port reaches `events` through STRONGROOM_EVENTS_PORT (fixed ports would
 * collide with suites running beside this one).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertCliBuilt, CLI } from '../support/cli-runner';
import { fencedBlocks, readmeCommands } from './readme-blocks';

const ROOT = resolve(__dirname, '../..');
const SERVE_START_MS = 60_000;

interface Serving {
  child: ChildProcess;
  port: number;
  eventsPort: number;
}

/** `strongroom serve --port 0` on the demo's data, resolved with its ports once it prints that it listens. */
function serve(data: string): Promise<Serving> {
  return new Promise((resolveServing, reject) => {
    const child = spawn(process.execPath, [CLI, '--data', data, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start within ${SERVE_START_MS} ms: ${err}`));
    }, SERVE_START_MS);
    child.stderr.on('data', (chunk) => (err += chunk));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      const { port, eventsPort } = JSON.parse(line).listening;
      resolveServing({ child, port, eventsPort });
    });
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`serve exited: ${err}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('README: every command it shows runs as written on a fresh demo', () => {
  let folder: string;
  let server: Serving | null = null;

  beforeAll(() => {
    assertCliBuilt();
    folder = mkdtempSync(join(tmpdir(), 'strongroom-readme-'));
    for (const entry of ['package.json', 'dist', 'node_modules']) symlinkSync(join(ROOT, entry), join(folder, entry));
  });

  afterAll(async () => {
    if (server) await stop(server.child);
    rmSync(folder, { recursive: true, force: true });
  });

  it('opens with exactly the two commands: the demo and the tests', () => {
    const [first] = fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(first.lines.filter((l) => l.trim() !== '')).toEqual(['bash scripts/demo.sh', 'bash scripts/test.sh']);
  });

  it('runs the README ```sh blocks, then the commands the demo prints, in order, each with the exit code it promises', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = readmeCommands(readme);
    expect(shown.filter((c) => c.section === 'Using it').length).toBeGreaterThanOrEqual(6);

    const data = join(folder, 'demo-data');
    const demo = spawnSync('bash', [join(ROOT, 'scripts/demo.sh'), '--no-serve', data], {
      env: { ...process.env, DEMO_SKIP_SETUP: '1', STRONGROOM_DATA: '' },
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect({ status: demo.status, output: `${demo.stdout}${demo.stderr}` }).toMatchObject({ status: 0 });

    // What the demo prints to try "in another terminal" is run too, after the README's commands.
    const hints = demo.stdout.split('\n');
    const from = hints.findIndex((l) => l.startsWith('The demo appliance is in'));
    expect(from).toBeGreaterThan(0);
    const printed = readmeCommands(['## demo.sh output', '```sh', ...hints.slice(from + 1).filter((l) => l.startsWith('  ')), '```'].join('\n'));
    expect(printed.length).toBeGreaterThanOrEqual(8);
    const commands = [...shown, ...printed];

    server = await serve(data);
    const port = server.port;

    // One bash session: each command is announced on both streams, run, and its exit code recorded.
    const script = ['set +e'];
    commands.forEach((command, i) => {
      const text = command.text.replaceAll('127.0.0.1:5700', `127.0.0.1:${port}`);
      script.push(`echo "### ${i}" ; echo "### ${i}" >&2`, text, `echo "${i} $?" >> exit-codes`);
    });
    writeFileSync(join(folder, 'readme-commands.sh'), `${script.join('\n')}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, STRONGROOM_EVENTS_PORT: String(server.eventsPort) };
    for (const name of Object.keys(env)) if (name === 'STRONGROOM_DATA' || name === 'STRONGROOM_SERVER') delete env[name];
    const run = spawnSync('bash', ['readme-commands.sh'], { cwd: folder, env, encoding: 'utf8', timeout: 300_000 });
    expect(run.error).toBeUndefined();

    const exits = new Map(
      readFileSync(join(folder, 'exit-codes'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' ').map(Number) as [number, number]),
    );
    const outputOf = (i: number): string => {
      const slice = (all: string): string => all.split(`### ${i}\n`)[1]?.split(`### ${i + 1}\n`)[0] ?? '';
      return `stdout:\n${slice(run.stdout)}stderr:\n${slice(run.stderr)}`;
    };
    const mismatches: string[] = [];
    commands.forEach((command, i) => {
      const actual = exits.get(i);
      if (actual === command.expectedExit) return;
      mismatches.push(`README "${command.section}": \`${command.text}\` exited ${actual ?? '(never ran: the session stopped before it)'}, the README promises ${command.expectedExit}\n${outputOf(i)}`);
    });
    expect(mismatches).toEqual([]);
  }, 600_000);
});
