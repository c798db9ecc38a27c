/**
 * Saves one sink's cursor (sinks/sink-cursor.ts) as it moves: at most once
 * per CURSOR_SAVE_MS while events flow (each save is an HSM signature and
 * a database write, so not one per batch), and once more at close. One save
 * at a time; a save that fails (the HSM or the database busy) is logged once
 * per failing stretch and tried again at the next move: a cursor that lags
 * only means events sent again after a restart (same seq and hash), never
 * events skipped.
 */
import { Logger } from '../common/logger';
import { Timer, Timers } from '../common/timers';
import { CursorKeeper, CursorPosition } from './sink-cursor';

/** Longest a delivered event waits before the cursor that covers it is saved: what a crash may send twice. */
export const CURSOR_SAVE_MS = 1_000;

export class CursorSaver {
  private timer: Timer | null = null;
  private saving: Promise<void> | null = null;
  private savedSeq = -1;
  private failing = false;
  private closed = false;

  constructor(
    private readonly sink: string,
    private readonly identity: string,
    private readonly keeper: CursorKeeper,
    private readonly position: () => CursorPosition | null,
    private readonly timers: Timers,
    private readonly log: Logger,
  ) {}

  /** The loaded position counts as saved (nothing to write until it moves). */
  loaded(seq: number): void {
    this.savedSeq = seq;
  }

  get savedThrough(): number {
    return this.savedSeq;
  }

  /** The position moved: save within CURSOR_SAVE_MS. */
  moved(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.timers.after(CURSOR_SAVE_MS, () => {
      this.timer = null;
      void this.saveNow();
    });
  }

  /** Saves the current position unless it is saved already; waits for a save in progress. */
  async saveNow(): Promise<void> {
    while (this.saving !== null) await this.saving;
    const at = this.position();
    if (at === null || at.seq === this.savedSeq) return;
    this.saving = this.keeper
      .save(this.sink, this.identity, at)
      .then(
        () => {
          this.savedSeq = at.seq;
          if (this.failing) this.log.info('audit sink cursor saved again', { sink: this.sink, seq: at.seq });
          this.failing = false;
        },
        (err: unknown) => {
          if (!this.failing) this.log.warn('audit sink cursor not saved; events delivered since the last save would be sent again after a restart', { sink: this.sink, error: String(err) });
          this.failing = true;
        },
      )
      .finally(() => {
        this.saving = null;
      });
    await this.saving;
  }

  /** The last save (call after delivery stopped); no timer is left behind. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    await this.saveNow();
  }
}
