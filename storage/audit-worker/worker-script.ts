/** Where a worker thread's compiled script is, whether the caller runs from dist/ or from its TypeScript source (jest). */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * The compiled `file` beside the caller (`dir`, its __dirname) when running
 * from dist/; when the caller runs from its TypeScript source (jest), the
 * dist/ copy (jest's global set-up compiles dist/ first), since a worker
 * cannot load .ts.
 */
export function workerScript(dir: string, file: string): string {
  const beside = join(dir, file);
  if (existsSync(beside)) return beside;
  return join(ROOT, 'dist', relative(ROOT, dir), file);
}
