/**
 * When the chaos test finds a destroyed instance's sealed material still in
 * a keychain file, this says where it sits, so a rare failure is understood
 * from the one run that shows it: each occurrence's offset and page, which
 * b-tree (or none: a free page) that page belongs to in the file as it is,
 * whether the WAL holds frames for that page, and how the WAL looked before
 * and after the check's open (whose TRUNCATE checkpoint should have folded
 * it). The lane's folder is copied aside for a closer look.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

/** The WAL's size just before and just after the check's open (-1: no WAL file). */
export interface WalAtOpen {
  readonly before: number;
  readonly after: number;
}

export function walSize(path: string): number {
  return statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? -1;
}

function offsetsOf(bytes: Buffer, needle: Buffer): number[] {
  const found: number[] = [];
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) found.push(at);
  return found;
}

/** Page number (1-based) → the b-tree that owns it, read with dbstat from a copy of the main file alone. */
function pageOwners(path: string, copyDir: string): Map<number, string> {
  const copy = join(copyDir, 'main-only.db');
  cpSync(path, copy);
  const db = new Database(copy, { readonly: true });
  try {
    const rows = db.prepare('SELECT name, pageno, pagetype FROM dbstat').all() as Array<{ name: string; pageno: number; pagetype: string }>;
    return new Map(rows.map((r) => [r.pageno, `${r.name} (${r.pagetype})`]));
  } finally {
    db.close();
  }
}

/** WAL frame page numbers (a frame is a 24-byte header, then the page). */
function walFramesFor(path: string, pageSize: number): number[] {
  const wal = `${path}-wal`;
  if (!existsSync(wal)) return [];
  const bytes = readFileSync(wal);
  const pages: number[] = [];
  for (let at = 32; at + 24 + pageSize <= bytes.length; at += 24 + pageSize) pages.push(bytes.readUInt32BE(at));
  return pages;
}

export function describeTrace(path: string, sealed: Buffer, walAtOpen: WalAtOpen): string {
  const evidence = mkdtempSync(join(tmpdir(), 'strongroom-chaos-evidence-'));
  try {
    cpSync(dirname(path), join(evidence, 'lane'), { recursive: true });
    const main = readFileSync(path);
    const pageSize = main.readUInt16BE(16) === 1 ? 65536 : main.readUInt16BE(16);
    const owners = pageOwners(path, evidence);
    const walPages = walFramesFor(path, pageSize);
    const where = offsetsOf(main, sealed).map((at) => {
      const page = Math.floor(at / pageSize) + 1;
      const frames = walPages.filter((p) => p === page).length;
      return `offset ${at} page ${page} of ${owners.get(page) ?? 'no b-tree (free or unused page)'}, ${frames} WAL frame(s) for it`;
    });
    return `[${where.join('; ')}]; WAL ${walAtOpen.before} bytes before the check's open, ${walAtOpen.after} after, ${walSize(path)} now; lane copied to ${evidence}`;
  } catch (err) {
    return `(no evidence: ${(err as Error).message}; lane copy in ${evidence})`;
  }
}
