/**
 * Zeroes the bytes of a SQLite file that no page uses, because secure_delete
 * alone leaves copies of destroyed material behind.
 *
 * secure_delete zeroes a cell when SQLite frees it. But when a b-tree page is
 * rebuilt during a balance (btree.c's rebuildPage), its cells are written
 * anew from the page's end, and the bytes between the new cell-pointer array
 * and the new cell-content start keep whatever the page held there before:
 * copies of cells that moved to another page or to another place on this
 * one. Those copies were never deleted, so secure_delete never zeroes them,
 * and a later Destroy zeroes only the live cell. The chaos test found a
 * destroyed instance's sealed material in such a gap (about 1 in 400
 * destructions under churn; test/storage/unused-space.test.ts shows it
 * without the chaos).
 *
 * This walks every b-tree from its root (sqlite_schema gives the roots) and
 * the freelist, and zeroes: the gap between each page's cell-pointer array
 * and its content start, the bodies of its freeblocks (after their 4-byte
 * headers, which SQLite reads), the unused tail of freelist trunk pages and
 * whole freelist leaf pages. Nothing in those ranges is read by SQLite. A
 * page whose header does not add up is left as it is and counted.
 *
 * The caller holds the write lock, having just emptied the WAL (a TRUNCATE
 * checkpoint): no writer can change the file, and a reader only ever looks
 * at the bytes this leaves alone. A page that is in the WAL all the same (a
 * writer of another connection came between the checkpoint and the lock: the
 * audit appender) is left alone, as a checkpoint may be copying it, and its
 * WAL image supersedes the file's; such writers only write the audit trail,
 * and the page is scrubbed by a later pass. Afterwards the caller drops its
 * connection's page cache (PRAGMA shrink_memory), whose images still hold the
 * old bytes and would write them back with the next change of their page.
 */
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface UnusedSpaceScrub {
  /** B-tree and freelist pages read. */
  readonly pagesRead: number;
  /** Pages where some unused byte was not zero, and was zeroed. */
  readonly pagesZeroed: number;
  readonly bytesZeroed: number;
  /** Pages whose header did not add up (left untouched; `PRAGMA integrity_check` says more). */
  readonly pagesSkipped: number;
  /** Pages left alone because the WAL holds an image of them. */
  readonly pagesInWal: number;
}

const LEAF_TABLE = 0x0d;
const LEAF_INDEX = 0x0a;
const INTERIOR_TABLE = 0x05;
const INTERIOR_INDEX = 0x02;

interface Geometry {
  readonly pageSize: number;
  /** Page size less the reserved bytes at the end of each page. */
  readonly usable: number;
  readonly pageCount: number;
}

/** A byte range [from, to) of one page. */
type Range = readonly [number, number];

class PageFile {
  private readonly fd: number;
  private wrote = false;
  /** All zeros, one page long: what an unused range is compared with, and written from. */
  private readonly zeros: Buffer;

  constructor(
    path: string,
    readonly geometry: Geometry,
  ) {
    this.fd = openSync(path, 'r+');
    this.zeros = Buffer.alloc(geometry.pageSize);
  }

  /** Page `pgno`, into `into` when given (one buffer reused for the pages nothing keeps). */
  read(pgno: number, into?: Buffer): Buffer {
    const page = into ?? Buffer.allocUnsafe(this.geometry.pageSize);
    const got = readSync(this.fd, page, 0, page.length, (pgno - 1) * this.geometry.pageSize);
    if (got !== page.length) throw new Error(`page ${pgno} is past the end of the file`);
    return page;
  }

  /** Zeroes the ranges of `page` (already read) that hold a non-zero byte; returns how many bytes it zeroed. */
  zero(pgno: number, page: Buffer, ranges: readonly Range[]): number {
    let zeroed = 0;
    for (const [from, to] of ranges) {
      if (to <= from || page.subarray(from, to).equals(this.zeros.subarray(0, to - from))) continue;
      writeSync(this.fd, this.zeros, 0, to - from, (pgno - 1) * this.geometry.pageSize + from);
      zeroed += to - from;
      this.wrote = true;
    }
    return zeroed;
  }

  close(): void {
    try {
      if (this.wrote) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}

/** The unused ranges of a b-tree page, and its children when interior; null when its header does not add up. */
function btreePage(page: Buffer, pgno: number, usable: number): { unused: Range[]; children: number[] } | null {
  const h = pgno === 1 ? 100 : 0;
  const type = page[h];
  const interior = type === INTERIOR_TABLE || type === INTERIOR_INDEX;
  if (!interior && type !== LEAF_TABLE && type !== LEAF_INDEX) return null;
  const headerSize = interior ? 12 : 8;
  const cells = page.readUInt16BE(h + 3);
  const contentStart = page.readUInt16BE(h + 5) || 65536;
  const pointersEnd = h + headerSize + 2 * cells;
  if (pointersEnd > contentStart || contentStart > usable) return null;
  const unused: Range[] = [[pointersEnd, contentStart]];
  // Freeblocks: a chain in ascending order inside the content area, each a 2-byte next offset and a 2-byte size.
  let at = page.readUInt16BE(h + 1);
  let floor = contentStart;
  while (at !== 0) {
    if (at < floor || at + 4 > usable) return null;
    const size = page.readUInt16BE(at + 2);
    if (size < 4 || at + size > usable) return null;
    unused.push([at + 4, at + size]);
    floor = at + size;
    at = page.readUInt16BE(at);
  }
  const children: number[] = [];
  // Every cell must lie in the content area: a page where one does not is corrupt, and nothing on it is zeroed.
  for (let i = 0; i < cells; i++) {
    const cell = page.readUInt16BE(h + headerSize + 2 * i);
    if (cell < contentStart || cell + 4 > usable) return null;
    if (interior) children.push(page.readUInt32BE(cell));
  }
  if (interior) children.push(page.readUInt32BE(h + 8));
  return { unused, children };
}

/** Page numbers of every frame in the WAL (a 32-byte header, then frames of a 24-byte header and a page), whether or not SQLite still uses the frame. */
function walPages(path: string, pageSize: number): Set<number> {
  const pages = new Set<number>();
  let fd: number;
  try {
    fd = openSync(`${path}-wal`, 'r');
  } catch {
    return pages; // No WAL file.
  }
  try {
    const frameHeader = Buffer.alloc(4);
    for (let at = 32; readSync(fd, frameHeader, 0, 4, at) === 4; at += 24 + pageSize) pages.add(frameHeader.readUInt32BE(0));
  } finally {
    closeSync(fd);
  }
  return pages;
}

function geometryOf(db: Database.Database): Geometry {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pageCount = db.pragma('page_count', { simple: true }) as number;
  // Until the header is read: the reserved bytes are subtracted once it is.
  return { pageSize, pageCount, usable: pageSize };
}

/** See the file comment: the caller holds the write lock and the WAL is empty. */
export function zeroUnusedSpace(db: Database.Database): UnusedSpaceScrub {
  const base = geometryOf(db);
  const file = new PageFile(db.name, base);
  let pagesRead = 0;
  let pagesZeroed = 0;
  let bytesZeroed = 0;
  let pagesSkipped = 0;
  let pagesInWal = 0;
  const inWal = walPages(db.name, base.pageSize);
  try {
    const header = file.read(1);
    // Bytes reserved at the end of every page (byte 20 of the header) are an extension's, not free space.
    const geometry: Geometry = { ...base, usable: base.pageSize - header[20] };
    const visit = (pgno: number, page: Buffer, unused: readonly Range[]): void => {
      pagesRead++;
      if (inWal.has(pgno)) {
        pagesInWal++;
        return;
      }
      const zeroed = file.zero(pgno, page, unused);
      if (zeroed > 0) {
        pagesZeroed++;
        bytesZeroed += zeroed;
      }
    };
    const inFile = (pgno: number): boolean => Number.isSafeInteger(pgno) && pgno >= 1 && pgno <= geometry.pageCount;
    const seen = new Set<number>();
    const scratch = Buffer.allocUnsafe(geometry.pageSize);
    const leafScratch = Buffer.allocUnsafe(geometry.pageSize);
    const roots = db.prepare("SELECT rootpage FROM sqlite_schema WHERE type IN ('table', 'index') AND rootpage > 0").pluck().all() as number[];
    const stack = [1, ...roots];
    while (stack.length > 0) {
      const pgno = stack.pop() as number;
      if (!inFile(pgno) || seen.has(pgno)) continue;
      seen.add(pgno);
      const page = pgno === 1 ? header : file.read(pgno, scratch);
      const parsed = btreePage(page, pgno, geometry.usable);
      if (parsed === null) {
        pagesSkipped++;
        continue;
      }
      visit(pgno, page, parsed.unused);
      stack.push(...parsed.children);
    }
    // The freelist: trunk pages (next trunk, leaf count, leaf page numbers) and their leaves, unused whole.
    let trunk = header.readUInt32BE(32);
    let left = header.readUInt32BE(36);
    while (trunk !== 0 && left > 0 && inFile(trunk) && !seen.has(trunk)) {
      seen.add(trunk);
      const page = file.read(trunk, scratch);
      const leaves = page.readUInt32BE(4);
      if (8 + 4 * leaves > geometry.usable) {
        pagesSkipped++;
        break;
      }
      visit(trunk, page, [[8 + 4 * leaves, geometry.usable]]);
      left--;
      for (let i = 0; i < leaves; i++) {
        const leaf = page.readUInt32BE(8 + 4 * i);
        if (!inFile(leaf) || seen.has(leaf)) continue;
        seen.add(leaf);
        visit(leaf, file.read(leaf, leafScratch), [[0, geometry.usable]]);
        left--;
      }
      trunk = page.readUInt32BE(0);
    }
  } finally {
    file.close();
  }
  return { pagesRead, pagesZeroed, bytesZeroed, pagesSkipped, pagesInWal };
}
