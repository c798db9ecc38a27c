/**
 * The signed sink cursor on a real SQLite file (the row an attacker edits)
 * and the soft HSM: it round-trips; a cursor moved forward, copied to
 * another sink or SIEM, or naming an event the trail does not hold is
 * rejected with its reason; a missing one is told apart. And the feed's
 * spool bound, with manual timers: the exact seqs skipped, reported once
 * per crossing with 10% slack, nothing read in the publisher's turn but at
 * a drop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { SoftHsm } from '../../hsm/soft-hsm';
import { HsmCursorKeeper, sinkIdentity } from '../../sinks/sink-cursor';
import { FeedWindow, SpoolDrop, TrailFeed } from '../../sinks/trail-feed';
import { AuditLiveEvent } from '../../domain/events/event-bus';
import { openSqliteStore } from '../../storage/sqlite-store';
import { KeychainStore } from '../../storage/keychain-store';
import { ManualTimers } from '../support/manual-timers';
import { auditEvent, liveChain } from './sink-test-events';

const KEYCHAIN_ID = 'kc-cursor-test';

describe('sink cursor', () => {
  let dir: string;
  let store: KeychainStore;
  let hsm: SoftHsm;
  const clock = new ManualClock(Date.parse('2026-12-01T00:00:00Z'));
  const identity = sinkIdentity('siem', 'syslog-tcp', '10.0.0.5:514');
  const keeper = (keychainId = KEYCHAIN_ID): HsmCursorKeeper => new HsmCursorKeeper({ audit: store.audit, keychainId, hsm: async () => hsm, clock });
  const at = (seq: number): { seq: number; hash: Buffer } => ({ seq, hash: store.audit.readAuditRecords(seq, 1)[0].hash });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-cursor-'));
    store = openSqliteStore(join(dir, 'keychain.db'));
    hsm = new SoftHsm();
    await hsm.ensureSigningKey();
    const writer = new AuditWriter(store.audit);
    await Promise.all(Array.from({ length: 10 }, (_, i) => writer.record(auditEvent(i + 1))));
  });
  afterEach(async () => {
    store.close();
    await hsm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips through the database, and tells a missing cursor apart', async () => {
    expect(await keeper().load('siem', identity)).toEqual({ state: 'missing' });
    await keeper().save('siem', identity, at(4));
    expect(await keeper().load('siem', identity)).toEqual({ state: 'valid', position: at(4) });
  });

  it('rejects a cursor moved forward in the file (bad signature), whatever hash it carries', async () => {
    await keeper().save('siem', identity, at(4));
    const saved = store.audit.readSinkCursor('siem')!;
    store.audit.writeSinkCursor({ ...saved, seq: 9, hash: at(9).hash });
    expect(await keeper().load('siem', identity)).toEqual({ state: 'rejected', reason: 'bad-signature', storedSeq: 9 });
  });

  it('rejects a cursor of another sink, another SIEM or another keychain', async () => {
    await keeper().save('other', sinkIdentity('other', 'syslog-tcp', '10.0.0.5:514'), at(9));
    store.audit.writeSinkCursor({ ...store.audit.readSinkCursor('other')!, sink: 'siem' });
    expect(await keeper().load('siem', identity)).toMatchObject({ state: 'rejected', reason: 'bad-signature' });
    await keeper().save('siem', sinkIdentity('siem', 'syslog-tcp', '10.0.0.6:514'), at(9));
    expect(await keeper().load('siem', identity)).toMatchObject({ state: 'rejected', reason: 'bad-signature' });
    await keeper('kc-other').save('siem', identity, at(9));
    expect(await keeper().load('siem', identity)).toMatchObject({ state: 'rejected', reason: 'bad-signature' });
  });

  it('rejects a signed cursor that names an event the trail does not hold (another trail, a restored one)', async () => {
    await keeper().save('siem', identity, { seq: 9, hash: Buffer.alloc(32, 7) });
    expect(await keeper().load('siem', identity)).toEqual({ state: 'rejected', reason: 'not-in-trail', storedSeq: 9 });
    await keeper().save('siem', identity, { seq: 11, hash: Buffer.alloc(32, 7) });
    expect(await keeper().load('siem', identity)).toEqual({ state: 'rejected', reason: 'not-in-trail', storedSeq: 11 });
  });
});

describe('trail feed spool bound', () => {
  class Window implements FeedWindow {
    readonly items: AuditLiveEvent[] = [];
    constructor(private readonly capacity: number) {}
    get room(): number {
      return this.capacity - this.items.length;
    }
    get size(): number {
      return this.items.length;
    }
    push(live: AuditLiveEvent): boolean {
      this.items.push(live);
      return true;
    }
  }

  it('skips the oldest events beyond the bound down to 90% of it, reports the exact seqs, and reads on from there', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const chain = liveChain(Array.from({ length: 200 }, (_, i) => auditEvent(i + 1)));
    let head = 0;
    let reads = 0;
    const trail = {
      headSeq: () => head,
      read: (from: number, limit: number) => {
        reads++;
        return chain.slice(from - 1, Math.min(head, from - 1 + limit));
      },
    };
    const window = new Window(5);
    const drops: SpoolDrop[] = [];
    const feed = new TrailFeed({ window, accepts: () => true, trail, spool: 50, timers, onDropped: (d) => drops.push(d), onAdvanced: () => undefined });
    feed.start({ seq: 0, hash: Buffer.alloc(0) });
    await timers.advance(0);
    // The window fills (5), then the SIEM takes nothing: everything else waits on disk.
    for (head = 1; head <= 55; head++) feed.offer(chain[head - 1]);
    head = 55;
    await timers.advance(0);
    expect(window.items.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(drops).toEqual([]);
    const readsBefore = reads;
    head = 56;
    feed.offer(chain[55]); // 51 on disk (6..56): over the bound of 50
    expect(drops).toEqual([{ fromSeq: 6, toSeq: 11, count: 6 }]);
    expect(reads - readsBefore).toBe(1); // the hash at the new position, nothing else in this turn
    expect(feed.dropped).toBe(6);
    // Not again until the slack (5) is used up.
    for (head = 57; head <= 61; head++) feed.offer(chain[head - 1]);
    expect(drops).toHaveLength(1);
    head = 62;
    feed.offer(chain[61]);
    expect(drops[1]).toEqual({ fromSeq: 12, toSeq: 17, count: 6 });
    // The SIEM takes the window: the feed reads on from after the skipped seqs.
    window.items.splice(0);
    feed.deliveredBatch(chain.slice(0, 5));
    await timers.advance(0);
    expect(window.items.map((l) => l.seq)).toEqual([18, 19, 20, 21, 22]);
    // 18..62: the window and what waits on disk, not the skipped seqs.
    expect(feed.backlog()).toBe(62 - 17);
  });
});
