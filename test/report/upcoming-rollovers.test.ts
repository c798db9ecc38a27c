/**
 * The report's "upcoming rollovers" (domain/report/upcoming-rollovers.ts):
 * which keys it lists (due within the window after the report is made, or
 * overdue; soonest first; never a key without automatic rollover), which
 * notices (the `rollover-notice` events of the period), how each scheduled
 * rollover is matched to its notice, and how the list is bounded.
 */
import { AuditEvent } from '../../domain/audit/audit-event';
import { MAX_UPCOMING, UPCOMING_ROLLOVER_DAYS, UpcomingRolloversBuilder } from '../../domain/report/upcoming-rollovers';
import { KeyView } from '../../domain/views';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DAY_MS = 86_400_000;

function key(fullName: string, nextRolloverAt: string | null, cryptoperiod: string | null = 'P90D'): KeyView {
  return { fullName, currentInstance: `${fullName}#1`, nextRolloverAt, cryptoperiod } as unknown as KeyView;
}

function notice(time: string, keyName: string, dueAt: string): AuditEvent {
  return {
    time, eventId: `e-${time}`, type: 'rollover-notice', identity: null, endUser: null, purpose: null, source: null, operation: null,
    key: keyName, instance: `${keyName}#1`, result: 'ok', requestId: null, custom: { dueAt, cryptoperiod: 'P90D', noticePeriod: 'P7D' },
  };
}

const at = (days: number): string => new Date(NOW + days * DAY_MS).toISOString();

describe('upcoming rollovers in the report', () => {
  it('lists the keys due within the window or overdue, soonest first, each with its notice if recorded', () => {
    const builder = new UpcomingRolloversBuilder(NOW);
    builder.addKey(key('hr/late', at(UPCOMING_ROLLOVER_DAYS)));
    builder.addKey(key('hr/b', at(5)));
    builder.addKey(key('hr/overdue', at(-1)));
    builder.addKey(key('hr/manual', null, null));
    builder.addKey(key('hr/a', at(2)));
    builder.addEvent(notice(at(-4), 'hr/b', at(5)));
    builder.addEvent(notice(at(-3), 'hr/a', at(-10))); // an older due date of hr/a: not its coming rollover's notice
    builder.addEvent({ ...notice(at(-2), 'hr/a', at(2)), type: 'rollover' });
    const upcoming = builder.build();
    expect(upcoming.withinDays).toBe(UPCOMING_ROLLOVER_DAYS);
    expect(upcoming.scheduled).toEqual([
      { key: 'hr/overdue', instance: 'hr/overdue#1', dueAt: at(-1), cryptoperiod: 'P90D', noticedAt: null },
      { key: 'hr/a', instance: 'hr/a#1', dueAt: at(2), cryptoperiod: 'P90D', noticedAt: null },
      { key: 'hr/b', instance: 'hr/b#1', dueAt: at(5), cryptoperiod: 'P90D', noticedAt: at(-4) },
    ]);
    expect(upcoming.notices.map((n) => [n.key, n.dueAt])).toEqual([['hr/b', at(5)], ['hr/a', at(-10)]]);
  });

  it('marks each notice genuine or not, and a forged one does not show its rollover as noticed', () => {
    const builder = new UpcomingRolloversBuilder(NOW, (event) => event.custom.noticeMac === 'good');
    builder.addKey(key('hr/a', at(2)));
    builder.addKey(key('hr/b', at(3)));
    builder.addEvent({ ...notice(at(-1), 'hr/a', at(2)), custom: { dueAt: at(2), noticeMac: 'forged' } });
    builder.addEvent({ ...notice(at(-1), 'hr/b', at(3)), custom: { dueAt: at(3), noticeMac: 'good' } });
    const upcoming = builder.build();
    expect(upcoming.notices.map((n) => [n.key, n.genuine])).toEqual([['hr/a', false], ['hr/b', true]]);
    expect(upcoming.scheduled.map((s) => [s.key, s.noticedAt])).toEqual([['hr/a', null], ['hr/b', at(-1)]]);
  });

  it('keeps the soonest MAX_UPCOMING and counts the rest, whatever the order keys come in', () => {
    const builder = new UpcomingRolloversBuilder(NOW);
    for (let i = MAX_UPCOMING + 9; i >= 0; i--) builder.addKey(key(`k/${String(i).padStart(5, '0')}`, new Date(NOW + i * 60_000).toISOString()));
    const upcoming = builder.build();
    expect(upcoming.scheduled).toHaveLength(MAX_UPCOMING);
    expect(upcoming.omittedScheduled).toBe(10);
    expect(upcoming.scheduled[0].key).toBe('k/00000');
    expect(upcoming.scheduled[MAX_UPCOMING - 1].key).toBe(`k/${String(MAX_UPCOMING - 1).padStart(5, '0')}`);
  });
});
