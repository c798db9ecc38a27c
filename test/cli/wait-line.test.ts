/**
 * The line `backup create` and `backup restore` show while the appliance
 * works on their one request (cli/wait-line.ts): on a terminal, what the
 * server is doing, a spinner and the time elapsed, redrawn on the injected
 * timers and ended whatever the outcome; nothing at all with --json or
 * without a terminal. And the restore's label, with the instance count
 * `backup list` gave or without it.
 */
import { ManualClock } from '../../common/clock';
import { elapsedText, WAIT_REDRAW_MS, waitLine, waitLineShown, whileServerWorks } from '../../cli/wait-line';
import { restoreWaitLabel } from '../../cli/commands/backup-restore';
import type { BackupListing } from '../../cli/commands/backup-list';
import { ManualTimers } from '../support/manual-timers';

function terminal(isTTY = true): { isTTY: boolean; written: string[]; write: (text: string) => boolean } {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) > 0 };
}

describe('wait line', () => {
  it('draws the label, a spinner and the time elapsed, redrawn as time passes, then ends the line once', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const stream = terminal();
    const line = waitLine('the appliance is snapshotting', { json: false }, { stream, clock, timers });
    expect(stream.written).toEqual(['\rthe appliance is snapshotting | 0s']);
    await timers.advance(WAIT_REDRAW_MS * 8);
    expect(stream.written).toHaveLength(9);
    expect(stream.written.at(-1)).toBe('\rthe appliance is snapshotting | 2s');
    line.end();
    line.end();
    expect(stream.written.at(-1)).toBe('\rthe appliance is snapshotting: 2s\n');
    expect(timers.count).toBe(0);
  });

  it('draws nothing with --json or when stderr is not a terminal', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    for (const [stream, json] of [[terminal(true), true], [terminal(false), false]] as const) {
      waitLine('x', { json }, { stream, clock, timers }).end();
      expect(stream.written).toEqual([]);
      expect(waitLineShown({ json }, stream)).toBe(false);
    }
    expect(timers.count).toBe(0);
  });

  it('ends the line when the work fails, and passes the failure on', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const stream = terminal();
    await expect(whileServerWorks('verifying', { json: false }, () => Promise.reject(new Error('APPROVAL_REQUIRED')), { stream, clock, timers })).rejects.toThrow('APPROVAL_REQUIRED');
    expect(stream.written.at(-1)).toBe('\rverifying: 0s\n');
    expect(timers.count).toBe(0);
  });

  it('reads elapsed time as a person does', () => {
    expect([elapsedText(999), elapsedText(59_000), elapsedText(185_000)]).toEqual(['0s', '59s', '3m 05s']);
  });

  it('names the instances a restore request opens when backup list gave them', () => {
    const name = 'backup-20261207T081500Z-1a2b3c4d.srbk';
    const listing = { backups: [{ name, manifest: { sealedInstances: 5000 } }] } as unknown as BackupListing;
    expect(restoreWaitLabel(name, listing)).toBe(`the appliance is verifying ${name}, opening 5000 instance(s)`);
    expect(restoreWaitLabel(name, null)).toBe(`the appliance is verifying ${name} in full`);
    expect(restoreWaitLabel('backup-20261101T000000Z-0badc0de.srbk', listing)).toMatch(/ in full$/);
  });
});
