/**
 * The audit group-commit totals the socket benchmark reads from the
 * appliance child per cell (ApplianceMetrics.auditCommitTotals): each
 * metered commit, synchronous or not, adds one commit, its events and its
 * time; a failed one adds nothing (it is counted as a failure instead).
 */
import { ApplianceMetrics } from '../../../server/metrics/appliance-metrics';
import { AuditRecord } from '../../../storage/audit-store';

describe('audit commit totals', () => {
  it('adds each commit, its events and its time, synchronous or not, and not a failed one', async () => {
    let now = 0;
    const metrics = new ApplianceMetrics(() => now, 'test');
    const records = (events: readonly string[]): AuditRecord[] => events.map(() => ({}) as AuditRecord);
    const syncAppend = metrics.meterAppender((events) => {
      now += 4;
      return records(events);
    });
    const asyncAppend = metrics.meterAppender(async (events) => {
      now += 6;
      return records(events);
    });
    const failing = metrics.meterAppender(() => {
      now += 100;
      throw new Error('disk gone');
    });
    expect(metrics.auditCommitTotals()).toEqual({ commits: 0, events: 0, seconds: 0 });
    syncAppend(['a', 'b', 'c']);
    await asyncAppend(['d']);
    expect(() => failing(['e'])).toThrow('disk gone');
    const totals = metrics.auditCommitTotals();
    expect(totals.commits).toBe(2);
    expect(totals.events).toBe(4);
    expect(totals.seconds).toBeCloseTo(0.01, 9);
  });
});
