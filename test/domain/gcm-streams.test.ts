/**
 * The stream table of streamed AES-GCM (domain/gcm-streams.ts), on a manual
 * clock (no real timers): parts continue one cipher and the result is the
 * one-shot encryption's; a stream is its client's and its instance's only;
 * the final part ends it; a part that fails ends it; it idles out; a seal
 * drops every stream; the per-client and total bounds refuse a new stream;
 * the correlation values are 16 random bytes and the trail's label is not
 * the value itself.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { ManualClock } from '../../common/clock';
import { GcmStreams, StreamDropped, streamLabel } from '../../domain/gcm-streams';
import { codeOf } from '../support/error-code';

const KEY = randomBytes(16);
const IV = randomBytes(12);
const cipher = () => createCipheriv('aes-128-gcm', KEY, IV, { authTagLength: 16 });

function table(limits = { perClient: 2, total: 3, idleMs: 1000 }) {
  const clock = new ManualClock(0);
  let generation = 0;
  const dropped: StreamDropped[] = [];
  const streams = new GcmStreams(clock, () => generation, limits, (d) => dropped.push(d));
  return { clock, streams, dropped, seal: () => generation++ };
}

describe('GCM streams', () => {
  it('continues one cipher over parts: the result is the one-shot encryption, and the final part ends the stream', () => {
    const { streams, dropped } = table();
    const started = cipher();
    const first = started.update(Buffer.from('part one, '));
    const correlation = streams.add('app', 'k@1', started);
    expect(correlation).toHaveLength(16);
    const second = streams.part(correlation, 'app', 'k@1', false, (c) => c.update(Buffer.from('part two, ')));
    const last = streams.part(correlation, 'app', 'k@1', true, (c) => ({ body: Buffer.concat([c.update(Buffer.from('the end')), c.final()]), tag: c.getAuthTag() }));
    const whole = cipher();
    const expected = Buffer.concat([whole.update(Buffer.from('part one, part two, the end')), whole.final()]);
    expect(Buffer.concat([first, second, last.body])).toEqual(expected);
    expect(last.tag).toEqual(whole.getAuthTag());
    expect(codeOf(() => streams.part(correlation, 'app', 'k@1', false, () => undefined))).toBe('STREAM_NOT_FOUND');
    expect(dropped).toEqual([{ client: 'app', instance: 'k@1', stream: streamLabel(correlation), reason: 'finished' }]);
    expect(streamLabel(correlation)).not.toContain(correlation.toString('hex').slice(0, 8));
  });

  it("refuses another client (STREAM_NOT_YOURS) and another instance, and keeps the stream for its own client", () => {
    const { streams } = table();
    const correlation = streams.add('app', 'k@1', cipher());
    expect(codeOf(() => streams.part(correlation, 'intruder', 'k@1', false, (c) => c.update(Buffer.from('x'))))).toBe('STREAM_NOT_YOURS');
    expect(codeOf(() => streams.part(correlation, 'app', 'k@2', false, (c) => c.update(Buffer.from('x'))))).toBe('INVALID_ARGUMENT');
    expect(streams.part(correlation, 'app', 'k@1', false, (c) => c.update(Buffer.from('x')))).toHaveLength(1);
  });

  it('ends a stream whose part failed: its cipher state is no longer one the client can know', () => {
    const { streams, dropped } = table();
    const correlation = streams.add('app', 'k@1', cipher());
    expect(() => streams.part(correlation, 'app', 'k@1', false, () => { throw new Error('refused'); })).toThrow('refused');
    expect(codeOf(() => streams.part(correlation, 'app', 'k@1', false, () => undefined))).toBe('STREAM_NOT_FOUND');
    expect(dropped.map((d) => d.reason)).toEqual(['failed']);
  });

  it('drops a stream idle for idleMs, and keeps one used within it', () => {
    const { clock, streams, dropped } = table();
    const idle = streams.add('app', 'k@1', cipher());
    const busy = streams.add('app', 'k@2', cipher());
    clock.set(900);
    streams.part(busy, 'app', 'k@2', false, (c) => c.update(Buffer.from('x')));
    clock.set(1000);
    expect(codeOf(() => streams.part(idle, 'app', 'k@1', false, () => undefined))).toBe('STREAM_NOT_FOUND');
    expect(streams.part(busy, 'app', 'k@2', false, (c) => c.update(Buffer.from('y')))).toHaveLength(1);
    expect(dropped.map((d) => [d.instance, d.reason])).toEqual([['k@1', 'expired']]);
  });

  it('drops every stream once the appliance was sealed, whatever sealed it', () => {
    const { streams, seal, dropped } = table();
    const a = streams.add('app', 'k@1', cipher());
    streams.add('other', 'k@2', cipher());
    seal();
    expect(codeOf(() => streams.part(a, 'app', 'k@1', false, () => undefined))).toBe('STREAM_NOT_FOUND');
    expect(streams.openCount).toBe(0);
    expect(dropped.map((d) => d.reason)).toEqual(['sealed', 'sealed']);
  });

  it('refuses a new stream past the per-client and total bounds, and admits again once one ends', () => {
    const { streams, clock } = table();
    streams.add('app', 'k@1', cipher());
    const second = streams.add('app', 'k@1', cipher());
    expect(codeOf(() => streams.admit('app'))).toBe('STREAM_LIMIT_REACHED');
    streams.admit('other');
    streams.add('other', 'k@1', cipher());
    expect(codeOf(() => streams.admit('third'))).toBe('STREAM_LIMIT_REACHED');
    streams.part(second, 'app', 'k@1', true, (c) => c.final());
    streams.admit('app');
    clock.set(5000);
    streams.admit('third');
    expect(streams.openCount).toBe(0);
  });
});
