/**
 * Time-ordered row ids (domain/ids.ts): RFC 9562 UUIDv7 in shape, the
 * injected clock's millisecond first, so ids made later sort later (what
 * keeps a rollover's index writes together), with random bits after it so
 * that ids of one millisecond still differ. Instance names stay random.
 */
import { ManualClock } from '../../common/clock';
import { timeOrderedIds, uuidV7 } from '../../domain/ids';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids', () => {
  it('are UUIDv7 whose first 48 bits are the clock\'s millisecond', () => {
    const clock = new ManualClock(Date.parse('2026-12-08T01:02:03.456Z'));
    const id = timeOrderedIds(clock).newId();
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(clock.nowMs());
  });

  it('sort in the order they were made across milliseconds, and differ within one', () => {
    const clock = new ManualClock(1_000);
    const ids = timeOrderedIds(clock);
    const made: string[] = [];
    for (let i = 0; i < 50; i++) {
      made.push(ids.newId(), ids.newId());
      clock.advance(1);
    }
    expect(new Set(made).size).toBe(made.length);
    const firstOfEach = made.filter((_, i) => i % 2 === 0);
    expect([...firstOfEach].sort()).toEqual(firstOfEach);
  });

  it('count up within one millisecond, and borrow the next past 4,096 or when the clock steps back', () => {
    const clock = new ManualClock(5_000);
    const ids = timeOrderedIds(clock);
    const made = Array.from({ length: 5_000 }, () => ids.newId());
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    expect(parseInt(made[4_095].replace(/-/g, '').slice(0, 12), 16)).toBe(5_000);
    expect(parseInt(made[4_096].replace(/-/g, '').slice(0, 12), 16)).toBe(5_001);
    clock.advance(-1_000);
    const afterStepBack = ids.newId();
    expect(afterStepBack > made[made.length - 1]).toBe(true);
  });

  it('clamp a clock outside the 48-bit field instead of making a malformed id', () => {
    expect(uuidV7(-5)).toMatch(/^00000000-0000-7/);
    expect(uuidV7(2 ** 50)).toMatch(/^ffffffff-ffff-7/);
    expect(uuidV7(2 ** 50)).toMatch(UUID_V7);
  });

  it('leave instance names random: 20 URL-safe characters, not time', () => {
    const clock = new ManualClock(0);
    const names = new Set(Array.from({ length: 20 }, () => timeOrderedIds(clock).newInstanceName()));
    expect(names.size).toBe(20);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{20}$/);
  });
});
