/**
 * The sinks' spool end to end, on a real appliance (SoftHSM2, SQLite, mTLS)
 * and real TCP syslog receivers on 127.0.0.1 that the test stops and starts:
 *
 * - a SIEM outage, then recovery: every event of the outage arrives, in
 *   order, read back from the trail (the in-memory queue is far smaller);
 * - an appliance restart during an outage: the sink resumes from its signed
 *   cursor; nothing is lost and nothing is sent twice;
 * - the spool bound: a sink that falls further behind skips the oldest
 *   events, counts them, and records `sink-dropped` naming the seqs; the
 *   SIEM receives exactly the rest, and the notice;
 * - a cursor edited in the database file (moved forward) is refused: the
 *   sink resends from its spool bound instead of skipping, and the trail
 *   says so (`sink-cursor-rejected`).
 *
 * Every wait is on an observable condition, bounded.
 */
import { AuditLiveEvent } from '../../domain/events/event-bus';
import { auditLiveEvents } from '../../domain/audit/audit-live';
import { SinkStats } from '../../sinks/siem-transport';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { parseSyslog, startStreamReceiver, StreamReceiver, waitFor } from './syslog-listeners';

/** In-memory window of each sink: far smaller than an outage, so the trail is read back. */
const QUEUE = 8;
/** The bound of the `small` sink. */
const SMALL_SPOOL = 20;
const WAIT_MS = 30_000;

describe('audit sinks spool on the trail and resume after a restart', () => {
  let siem: StreamReceiver;
  let small: StreamReceiver;
  let app: TestAppliance;
  let officer: RawConnection;

  const stats = (name: string): SinkStats => (app.server.services.auditSinkStats?.() ?? []).find((s) => s.name === name) as SinkStats;
  const headSeq = (): number => app.appliance.store.audit.auditHead()?.seq ?? 0;
  const trail = (from = 1): AuditLiveEvent[] => auditLiveEvents(app.appliance.store.audit.readAuditRecords(from, 100_000));
  const seqsOf = (receiver: StreamReceiver, fromIndex = 0): number[] => receiver.messages.slice(fromIndex).map((m) => parseSyslog(m).seq);
  const lastSeq = (receiver: StreamReceiver): number => (receiver.messages.length === 0 ? 0 : parseSyslog(receiver.messages[receiver.messages.length - 1]).seq);
  const range = (first: number, last: number): number[] => Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);

  /** `count` requests, each an audit event (a Get of a key that does not exist is refused, and audited). */
  async function requests(count: number): Promise<void> {
    const before = headSeq();
    for (let i = 0; i < count; i++) expect((await officer.request('Get', { name: 'spool/none' })).error).toBeDefined();
    await waitFor(() => headSeq() >= before + count, 'the events to be in the trail');
  }

  /** Until the sink has delivered everything up to the trail's head (the receiver holds the head itself). */
  async function caughtUp(name: string, receiver: StreamReceiver): Promise<void> {
    await waitFor(() => stats(name).backlog === 0 && lastSeq(receiver) === headSeq(), `sink ${name} to catch up`, WAIT_MS);
  }

  /** Every received message carries the seq and hash the trail holds. */
  function expectFromTrail(receiver: StreamReceiver): void {
    const bySeq = new Map(trail().map((live) => [live.seq, live.hash]));
    for (const message of receiver.messages) {
      const { seq, hash } = parseSyslog(message);
      expect(hash).toBe(bySeq.get(seq));
    }
  }

  beforeAll(async () => {
    siem = await startStreamReceiver();
    small = await startStreamReceiver();
    app = await startTestAppliance({
      audit_sinks: 'siem, small',
      'audit_sink.siem': `transport=syslog-tcp host=127.0.0.1 port=${siem.port} format=json queue=${QUEUE} retry_max_ms=100`,
      'audit_sink.small': `transport=syslog-tcp host=127.0.0.1 port=${small.port} format=cef queue=${QUEUE} spool=${SMALL_SPOOL} retry_max_ms=100`,
    });
    officer = await app.connect(app.officer);
    await caughtUp('siem', siem);
  }, 120_000);

  afterAll(async () => {
    officer?.destroy();
    await app?.stop();
    await Promise.all([siem?.stop(), small?.stop()]);
  });

  it('a new sink starts with the trail (its spool window) and delivers it all, in order', async () => {
    await requests(5);
    await caughtUp('siem', siem);
    expect(seqsOf(siem)).toEqual(range(1, headSeq()));
    expectFromTrail(siem);
  });

  it('delivers every event of a SIEM outage once it is back, in order, read back from the trail', async () => {
    await siem.stop();
    await waitFor(() => !stats('siem').connected, 'the sink to notice the SIEM went away');
    const received = siem.messages.length;
    const firstDown = headSeq() + 1;
    await requests(QUEUE * 5);
    const down = stats('siem');
    expect(down.queued).toBeLessThanOrEqual(QUEUE);
    expect(down.backlog).toBeGreaterThanOrEqual(QUEUE * 5);
    expect(down.dropped).toBe(0);
    await siem.start();
    await caughtUp('siem', siem);
    expect(seqsOf(siem, received)).toEqual(range(firstDown, headSeq()));
    expect(stats('siem').dropped).toBe(0);
    expectFromTrail(siem);
  });

  it('resumes after an appliance restart from its signed cursor: nothing lost, nothing sent twice', async () => {
    await caughtUp('siem', siem);
    await siem.stop();
    await waitFor(() => !stats('siem').connected, 'the sink to notice the SIEM went away');
    const received = siem.messages.length;
    const delivered = lastSeq(siem);
    await requests(QUEUE * 3);
    officer.destroy();
    // Stopping cannot deliver (the SIEM is down): the cursor saved at close covers only what was delivered.
    await app.restart();
    officer = await app.connect(app.officer);
    expect(app.appliance.store.audit.readSinkCursor('siem')?.seq).toBe(delivered);
    await siem.start();
    await requests(2);
    await caughtUp('siem', siem);
    expect(seqsOf(siem, received)).toEqual(range(delivered + 1, headSeq()));
    expectFromTrail(siem);
    // The cursor moves on with delivery.
    await waitFor(() => stats('siem').cursorSeq === headSeq(), 'the cursor to be saved', WAIT_MS);
  });

  it('falls at most its spool behind: skips the oldest, counts them, and records sink-dropped with the seqs', async () => {
    await caughtUp('small', small);
    await small.stop();
    await waitFor(() => !stats('small').connected, 'the small sink to notice the SIEM went away');
    const received = small.messages.length;
    const firstDown = headSeq() + 1;
    await requests(SMALL_SPOOL * 3);
    await waitFor(() => trail(firstDown).some((live) => live.event.type === 'sink-dropped'), 'a sink-dropped event');
    const down = stats('small');
    expect(down.backlog).toBeLessThanOrEqual(SMALL_SPOOL + QUEUE + 1);
    expect(down.dropped).toBeGreaterThan(0);
    await small.start();
    await caughtUp('small', small);
    // What was skipped is exactly what the sink-dropped events name, and the counter agrees.
    const drops = trail(firstDown)
      .filter((live) => live.event.type === 'sink-dropped' && live.event.custom.sink === 'small')
      .map((live) => ({ from: Number(live.event.custom.fromSeq), to: Number(live.event.custom.toSeq), count: Number(live.event.custom.count) }));
    expect(drops.length).toBeGreaterThan(0);
    const skipped = new Set(drops.flatMap((d) => range(d.from, d.to)));
    expect(skipped.size).toBe(drops.reduce((sum, d) => sum + d.count, 0));
    expect(stats('small').dropped).toBe(skipped.size);
    expect(seqsOf(small, received)).toEqual(range(firstDown, headSeq()).filter((seq) => !skipped.has(seq)));
    // The SIEM is told: it received the notices themselves (but those a later skip took).
    const notices = trail(firstDown).filter((live) => live.event.type === 'sink-dropped' && !skipped.has(live.seq));
    expect(notices.length).toBeGreaterThan(0);
    expect(small.messages.slice(received).filter((m) => m.includes('sink-dropped')).length).toBe(notices.length);
    // The other sink lost nothing.
    await caughtUp('siem', siem);
    expect(stats('siem').dropped).toBe(0);
  });

  it('refuses a cursor moved forward in the database file: resends from its spool bound, never skips, and records why', async () => {
    await caughtUp('siem', siem);
    await waitFor(() => stats('siem').cursorSeq === headSeq(), 'the cursor to be saved', WAIT_MS);
    // With the SIEM down nothing moves the cursor again, so the forgery below is what the next start reads.
    await siem.stop();
    await waitFor(() => !stats('siem').connected, 'the sink to notice the SIEM went away');
    await requests(5);
    const honest = app.appliance.store.audit.readSinkCursor('siem');
    expect(honest).not.toBeNull();
    const skippedTo = trail(headSeq())[0];
    // Moved forward to the head, with the old signature: as if the events since had reached the SIEM.
    app.appliance.store.audit.writeSinkCursor({ ...honest!, seq: skippedTo.seq, hash: Buffer.from(skippedTo.hash, 'hex') });
    officer.destroy();
    const received = siem.messages.length;
    await app.restart();
    expect(app.appliance.store.audit.readSinkCursor('siem')?.seq).toBe(skippedTo.seq);
    officer = await app.connect(app.officer);
    await siem.start();
    await waitFor(() => trail(skippedTo.seq).some((live) => live.event.type === 'sink-cursor-rejected'), 'a sink-cursor-rejected event');
    const rejected = trail(skippedTo.seq).find((live) => live.event.type === 'sink-cursor-rejected')!;
    expect(rejected.event.custom).toMatchObject({ sink: 'siem', reason: 'bad-signature', storedSeq: String(skippedTo.seq), resumedAfter: '0' });
    expect(rejected.event.result).toBe('INTEGRITY_FAILURE');
    await caughtUp('siem', siem);
    // Everything is sent again (the spool bound holds the whole trail): duplicates, same seq and hash, never a gap.
    const resent = seqsOf(siem, received);
    expect(resent).toEqual(range(1, headSeq()));
    expectFromTrail(siem);
  });
});
