/**
 * The CLI's progress line for long work (a large backup's download, opening
 * every instance of one): one line on stderr, rewritten in place, shown only
 * when stderr is a terminal and --json is off, so scripts, pipes and tests
 * see no progress at all and stdout carries the result alone. Updates are
 * drawn at most every 200 ms of the caller's work (the last one always).
 */
export interface Progress {
  update(done: number, total: number): void;
  /** Ends the line (nothing when nothing was drawn). */
  end(): void;
}

const REDRAW_MS = 200;
const BAR_WIDTH = 30;

export function progressLine(label: string, options: { json: boolean; unit?: 'bytes' | 'items' }, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (options.json || !stream.isTTY) return { update: () => undefined, end: () => undefined };
  let drawn = false;
  let last = 0;
  const amount = (n: number): string => (options.unit === 'bytes' ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : String(n));
  return {
    update(done, total) {
      const now = Date.now();
      if (drawn && done < total && now - last < REDRAW_MS) return;
      last = now;
      const share = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(share * BAR_WIDTH);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.round(share * 100)}% (${amount(done)} of ${amount(total)})`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
