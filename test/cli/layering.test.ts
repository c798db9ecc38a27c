/**
 * The layering rules, read from the sources themselves:
 *
 * - No file under cli/ imports domain/, storage/ or hsm/, except the
 *   commands that make or read the appliance itself (init, serve, status)
 *   and the offline audit checks (cli/offline/). Every other command is a
 *   client of the wire: it sends strings through a Requester and reads the
 *   wire's types (client/types.ts) and vocabulary (protocol/).
 * - The client library (client/) never imports server/, storage/, hsm/ or
 *   sinks/, and takes domain/ and operations/ only as types (`import type`,
 *   `export type`: erased at compile time, so the library carries no server
 *   code at run time while sharing the server's view declarations).
 * - No source file is over MAX_SOURCE_LINES lines (scripts/ and test/ aside).
 *
 * Imports are found with a small scanner (static, side-effect, dynamic and
 * require), itself tested below so the rules cannot pass by seeing nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The house limit on a source file's length (small files that each do one thing). */
const MAX_SOURCE_LINES = 450;
/** The folders whose files the length limit applies to. */
const SOURCE_FOLDERS = ['cli', 'client', 'protocol', 'operations', 'domain', 'storage', 'hsm', 'sinks', 'server', 'common'];

/** What a CLI file may not import, and the files that may. */
const CLI_FORBIDDEN = ['domain', 'storage', 'hsm'];
const CLI_ALLOWED = [/^cli\/commands\/(init|serve|status)\.ts$/, /^cli\/offline\//];
/** What the client library may not import at all, and what only as types. */
const CLIENT_FORBIDDEN = ['server', 'storage', 'hsm', 'sinks'];
const CLIENT_TYPES_ONLY = ['domain', 'operations'];

interface ImportRef {
  /** The import's target, as a repository path (`domain/views`), or the bare specifier for packages. */
  readonly target: string;
  readonly typeOnly: boolean;
}

/** Every import and re-export of `source`, the file at repository path `file`, resolved against the repository root. */
function importsOf(source: string, file: string): ImportRef[] {
  const refs: ImportRef[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    const target = specifier.startsWith('.') ? posix.normalize(posix.join(posix.dirname(file), specifier)) : specifier;
    refs.push({ target, typeOnly });
  };
  // `import x from '…'`, `import { a, b } from '…'`, `export { a } from '…'`, `export * from '…'`, across lines.
  for (const match of source.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'";=()]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    add(match[3], match[2] !== undefined);
  }
  // `import('…')` and `require('…')`: always values.
  for (const match of source.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) add(match[1], false);
  return refs;
}

/** The top folder of a repository path (`domain` for `domain/audit/x`). */
const topFolder = (target: string): string => target.split('/')[0];

/** Build output inside a source folder (client/dist, the client package's build): compiled, not source. */
const BUILD_FOLDERS = new Set(['dist', 'node_modules']);

/** Repository paths (with `/`) of every .ts file under `folder`, build output aside. */
function tsFiles(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!BUILD_FOLDERS.has(entry.name)) walk(path);
      } else if (entry.name.endsWith('.ts')) found.push(relative(ROOT, path).split(sep).join('/'));
    }
  };
  walk(join(ROOT, folder));
  return found.sort();
}

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** Every repository .ts file `entry` reaches through relative imports of any kind (values and types), itself included. */
function reachableFrom(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const ref of importsOf(read(file), file)) {
      if (!ref.target.includes('/') || ref.target.startsWith('node:')) continue;
      const candidates = [`${ref.target}.ts`, `${ref.target}/index.ts`];
      const found = candidates.find((candidate) => existsSync(join(ROOT, candidate)));
      if (found !== undefined) visit(found);
    }
  };
  visit(entry);
  return [...seen].sort();
}

/** The rule a file of cli/ breaks with `ref`, or null. */
function cliViolation(file: string, ref: ImportRef): string | null {
  if (!CLI_FORBIDDEN.includes(topFolder(ref.target)) || CLI_ALLOWED.some((allowed) => allowed.test(file))) return null;
  return `${file} imports ${ref.target}`;
}

/** The rule a file of client/ breaks with `ref`, or null. */
function clientViolation(file: string, ref: ImportRef): string | null {
  const top = topFolder(ref.target);
  if (CLIENT_FORBIDDEN.includes(top)) return `${file} imports ${ref.target}`;
  if (CLIENT_TYPES_ONLY.includes(top) && !ref.typeOnly) return `${file} imports ${ref.target} as a value (only \`import type\` / \`export type\`)`;
  return null;
}

describe('the import scanner', () => {
  it('finds static, multi-line, side-effect, re-export, dynamic and require imports, resolved from the file', () => {
    const source = [
      "import { a } from '../../domain/views';",
      'import {',
      '  b,',
      '  c,',
      "} from '../backend/backend';",
      "import type { D } from '../../storage/records';",
      "export type { E } from '../../domain/report/report-model';",
      "export * from './types';",
      "import '../../hsm/pkcs11-hsm';",
      "const later = await import('../../server/compose/open-appliance');",
      "const old = require('../../sinks/siem-transport');",
      "import forge from 'node-forge';",
    ].join('\n');
    expect(importsOf(source, 'cli/commands/x.ts')).toEqual([
      { target: 'domain/views', typeOnly: false },
      { target: 'cli/backend/backend', typeOnly: false },
      { target: 'storage/records', typeOnly: true },
      { target: 'domain/report/report-model', typeOnly: true },
      { target: 'cli/commands/types', typeOnly: false },
      { target: 'hsm/pkcs11-hsm', typeOnly: false },
      { target: 'node-forge', typeOnly: false },
      { target: 'server/compose/open-appliance', typeOnly: false },
      { target: 'sinks/siem-transport', typeOnly: false },
    ]);
  });

  it('applies the rules: a command may not import domain/, init may; the client takes domain/ only as types, never server/', () => {
    const domainValue = { target: 'domain/views', typeOnly: false };
    expect(cliViolation('cli/commands/key-get.ts', domainValue)).not.toBeNull();
    expect(cliViolation('cli/commands/key-get.ts', { target: 'domain/views', typeOnly: true })).not.toBeNull();
    expect(cliViolation('cli/commands/init.ts', domainValue)).toBeNull();
    expect(cliViolation('cli/offline/offline-audit.ts', domainValue)).toBeNull();
    expect(cliViolation('cli/commands/key-get.ts', { target: 'protocol/op-schemas', typeOnly: false })).toBeNull();
    expect(clientViolation('client/types.ts', { target: 'domain/views', typeOnly: true })).toBeNull();
    expect(clientViolation('client/types.ts', domainValue)).not.toBeNull();
    expect(clientViolation('client/types.ts', { target: 'server/compose/open-appliance', typeOnly: true })).not.toBeNull();
  });
});

describe('layering', () => {
  it('keeps domain/, storage/ and hsm/ out of the CLI but for init, serve, status and the offline audit checks', () => {
    const files = tsFiles('cli');
    expect(files.length).toBeGreaterThan(20);
    const violations = files.flatMap((file) => importsOf(read(file), file).map((ref) => cliViolation(file, ref))).filter((v) => v !== null);
    expect(violations).toEqual([]);
  });

  it('keeps server code out of the client library: no server/, storage/, hsm/ or sinks/, and domain/ and operations/ only as types', () => {
    const files = tsFiles('client');
    expect(files.length).toBeGreaterThan(5);
    const violations = files.flatMap((file) => importsOf(read(file), file).map((ref) => clientViolation(file, ref))).filter((v) => v !== null);
    expect(violations).toEqual([]);
  });

  it('keeps the client package (client/tsconfig.json builds client/index.ts and all it reaches) free of server code, type imports included', () => {
    // A type-only import still puts its file in the package's build and its .d.ts: one import of a
    // server file's interface would ship storage/ or hsm/ (and their native modules' types) to apps.
    const reached = reachableFrom('client/index.ts');
    expect(reached.length).toBeGreaterThan(10);
    expect(reached.filter((file) => CLIENT_FORBIDDEN.includes(topFolder(file)) || topFolder(file) === 'cli')).toEqual([]);
  });

  it(`keeps every source file at ${MAX_SOURCE_LINES} lines or fewer`, () => {
    const files = SOURCE_FOLDERS.flatMap(tsFiles);
    expect(files.length).toBeGreaterThan(100);
    const lineCount = (file: string): number => read(file).replace(/\n$/, '').split('\n').length;
    const tooLong = files.filter((file) => lineCount(file) > MAX_SOURCE_LINES).map((file) => `${file}: ${lineCount(file)} lines`);
    expect(tooLong).toEqual([]);
  });
});
