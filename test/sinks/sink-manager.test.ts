/**
 * The SinkManager on the event bus, with in-memory channels and manual
 * timers: events reach each winston transport in chain order through the
 * logger, filters apply per sink, a failing channel never reaches the
 * publisher, and close() gives up after its flush bound instead of hanging.
 */
import { ManualClock } from '../../common/clock';
import { EventBus } from '../../domain/events/event-bus';
import { Channel, Chunk } from '../../sinks/channels';
import { SinkManager } from '../../sinks/sink-manager';
import { parseSinkSpec } from '../../sinks/sink-spec';
import { TRAIL_RETRY_MS } from '../../sinks/trail-feed';
import { auditEvent, liveChain } from './sink-test-events';
import { ManualTimers } from '../support/manual-timers';

class MemoryChannel implements Channel {
  readonly chunks: string[] = [];
  failing = false;
  closed = false;
  get connected(): boolean {
    return !this.failing;
  }
  async send(chunks: readonly Chunk[]): Promise<void> {
    if (this.failing) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    this.chunks.push(...chunks.map((chunk) => chunk.toString()));
  }
  close(): void {
    this.closed = true;
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('sink manager', () => {
  it('feeds each sink its events in chain order through winston, filtered per sink', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const all = new MemoryChannel();
    const hr = new MemoryChannel();
    const channels = [all, hr];
    const specs = [parseSinkSpec('all', 'transport=file path=/x', '/'), parseSinkSpec('hr', 'transport=syslog-tcp host=h namespaces=hr types=operation', '/')];
    // One manager per channel set: the channel is injected per transport in construction order.
    const managers = specs.map((spec, i) => new SinkManager([spec], { clock, timers, version: '1', hostname: 'h', procId: '1', channel: channels[i] }));
    const bus = new EventBus();
    for (const manager of managers) manager.attach(bus);
    const events = liveChain([
      auditEvent(1, { key: 'hr/a' }),
      auditEvent(2, { key: 'pay/b' }),
      auditEvent(3, { key: null, type: 'auth-failure' }),
      auditEvent(4, { key: 'hr/c', type: 'rollover' }),
      auditEvent(5, { key: 'hr/d' }),
    ]);
    for (const live of events) bus.publish(live);
    bus.publish({ kind: 'rollover-notice', key: 'hr/a', namespace: 'hr', dueAt: 'x', time: 'y' });
    await turn();
    await timers.advance(0);
    expect(all.chunks.map((c) => JSON.parse(c).seq)).toEqual([1, 2, 3, 4, 5]);
    expect(hr.chunks.map((c) => /seq="(\d+)"/.exec(c)?.[1])).toEqual(['1', '5']);
    expect(managers[1].stats()[0]).toMatchObject({ name: 'hr', delivered: 2, dropped: 0, connected: true, target: 'h:514' });
    await Promise.all(managers.map((m) => m.close(100)));
    expect(all.closed && hr.closed).toBe(true);
  });

  it('a dead SIEM never reaches the publisher, and close() gives up after its bound, counting what is left', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const dead = new MemoryChannel();
    dead.failing = true;
    const manager = new SinkManager([parseSinkSpec('dead', 'transport=syslog-tcp host=h queue=3', '/')], { clock, timers, version: '1', hostname: 'h', procId: '1', channel: dead });
    const bus = new EventBus();
    manager.attach(bus);
    for (const live of liveChain([1, 2, 3, 4, 5].map((n) => auditEvent(n)))) expect(() => bus.publish(live)).not.toThrow();
    await turn();
    await timers.advance(0);
    expect(manager.stats()[0]).toMatchObject({ queued: 3, dropped: 2, connected: false, lastError: 'connect ECONNREFUSED' });
    const closing = manager.close(500);
    await turn();
    await timers.advance(600);
    await expect(closing).resolves.toBeUndefined();
    expect(manager.stats()[0]).toMatchObject({ queued: 0, dropped: 5 });
    expect(dead.closed).toBe(true);
    expect(bus.listenerCount).toBe(0);
  });

  it('without sinks it does not listen, so the server skips publishing', () => {
    const bus = new EventBus();
    const manager = new SinkManager([], { clock: new ManualClock(0), timers: new ManualTimers(new ManualClock(0)), version: '1', hostname: 'h', procId: '1' });
    manager.attach(bus);
    expect(bus.listenerCount).toBe(0);
    expect(manager.stats()).toEqual([]);
  });

  it('reads back from the trail what the bus did not bring (another writer), in order, and tries a failed read again', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const channel = new MemoryChannel();
    const manager = new SinkManager([parseSinkSpec('all', 'transport=file path=/x', '/')], { clock, timers, version: '1', hostname: 'h', procId: '1', channel });
    const chain = liveChain([1, 2, 3, 4, 5, 6, 7].map((n) => auditEvent(n)));
    let head = 2;
    let failReads = false;
    const history = {
      headSeq: () => head,
      read: (from: number, limit: number) => {
        if (failReads) throw new Error('SQLITE_BUSY');
        return chain.slice(from - 1, Math.min(head, from - 1 + limit));
      },
    };
    const bus = new EventBus();
    const publish = (seq: number): void => {
      head = seq;
      expect(() => bus.publish(chain[seq - 1])).not.toThrow();
    };
    manager.attach(bus, history);
    await manager.ready();
    publish(3);
    head = 4; // seq 4: appended by another process, never on this bus
    publish(5);
    await turn();
    await timers.advance(0);
    expect(channel.chunks.map((c) => JSON.parse(c).seq)).toEqual([3, 4, 5]);
    failReads = true;
    head = 6;
    publish(7); // 6 must be read back, and the read fails
    await turn();
    await timers.advance(0);
    expect(channel.chunks.map((c) => JSON.parse(c).seq)).toEqual([3, 4, 5]);
    failReads = false;
    await timers.advance(TRAIL_RETRY_MS);
    await turn();
    await timers.advance(0);
    expect(channel.chunks.map((c) => JSON.parse(c).seq)).toEqual([3, 4, 5, 6, 7]);
    expect(manager.stats()[0]).toMatchObject({ delivered: 5, dropped: 0, backlog: 0 });
    await manager.close(10);
  });
});
