/**
 * Attack: someone who can edit the keychain file deletes a sink's row from
 * `audit_sink_cursors` while its SIEM is behind, hoping the appliance
 * restarts delivery from the trail's head (the events the SIEM had not got
 * would never reach it: a hidden gap) or replays the trail without a word
 * (a SIEM flooded with old events nobody can explain).
 *
 * Nothing authenticated holds a copy of the position (the signed row is the
 * only one), so the appliance can prove no place to resume from. It fails
 * closed and visibly: delivery restarts from the oldest event the sink's
 * spool allows (here the whole trail: at least once, nothing skipped), the
 * trail records `sink-cursor-missing` naming the sink and where delivery
 * restarted (and the SIEM receives that event too, in order), the log
 * warns, and the sink's `cursorResets` (metric
 * strongroom_audit_sink_cursor_resets_total) counts it.
 *
 * Real parts: the soft HSM signing the cursor, the SQLite file the row is
 * deleted from by another connection, a real rsyslog taking the events over
 * RELP (test/sinks/rsyslog-relp-siem.ts), frozen (SIGSTOP) for the outage
 * and then killed and started again, so that nothing it was sent is lost
 * on the way and a gap could only be the appliance's.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { auditLiveEvents } from '../../domain/audit/audit-live';
import { SinkStats } from '../../sinks/siem-transport';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { waitFor } from '../sinks/syslog-listeners';
import { RelpSiem, startRelpSiem } from '../sinks/rsyslog-relp-siem';

describe('security 37: a sink cursor row deleted', () => {
  let siem: RelpSiem;
  let app: TestAppliance;
  let conn: RawConnection | null = null;

  afterAll(async () => {
    conn?.destroy();
    await app?.stop();
    await siem?.stop();
  });

  it('restarts delivery from the oldest event the spool allows, with a sink-cursor-missing event and a count', async () => {
    siem = await startRelpSiem();
    app = await startTestAppliance({ audit_sinks: 'siem', 'audit_sink.siem': `transport=relp host=127.0.0.1 port=${siem.relpPort} retry_max_ms=100` });
    const stats = (): SinkStats => (app.server.services.auditSinkStats?.() ?? [])[0];
    const head = (): number => app.appliance.store.audit.auditHead()?.seq ?? 0;
    const received = (): Set<number> => new Set(siem.records().filter((r) => r.input === 'imrelp').map((r) => r.seq));
    conn = await app.connect(app.officer);
    const makeEvents = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) expect((await (conn as RawConnection).request('Get', { name: `missing/k${i}` })).error).toBeDefined();
    };

    await makeEvents(10);
    const deliveredHead = head();
    await waitFor(() => received().has(deliveredHead) && stats().cursorSeq >= deliveredHead, 'the sink to deliver and save its cursor', 20_000);

    // The SIEM falls behind: frozen, it acknowledges nothing.
    siem.pause();
    await makeEvents(10);
    await waitFor(() => stats().unacknowledged > 0, 'events waiting for the frozen SIEM', 20_000);

    // The attack, on the live file from another connection.
    const db = new Database(join(app.dataDir, 'keychain.db'));
    expect(db.prepare('DELETE FROM audit_sink_cursors WHERE sink = ?').run('siem').changes).toBe(1);
    db.close();
    conn.destroy();
    conn = null;
    await app.restart();

    // The SIEM crashes and comes back.
    await siem.kill();
    await siem.start();
    const restartedHead = head();
    await waitFor(() => received().has(restartedHead), 'the sink to deliver after the restart', 60_000);

    const trail = auditLiveEvents(app.appliance.store.audit.readAuditRecords(1, head()));
    const missing = trail.filter((live) => live.event.type === 'sink-cursor-missing');
    // One at the sink's first start (a new sink has no cursor either: nothing authenticated tells the two apart), one after the deletion.
    expect(missing.map((live) => live.event.custom)).toEqual([
      { sink: 'siem', resumedAfter: '0' },
      { sink: 'siem', resumedAfter: '0' },
    ]);
    expect(missing[0].seq).toBeLessThan(deliveredHead);
    expect(missing[1].seq).toBeGreaterThan(deliveredHead);
    expect(missing.map((live) => live.event.result)).toEqual(['SINK_CURSOR_MISSING', 'SINK_CURSOR_MISSING']);
    // Nothing skipped: every event of the trail reached the SIEM (before the outage or after the restart), the notice included.
    const got = received();
    const gap = Array.from({ length: restartedHead }, (_, i) => i + 1).filter((seq) => !got.has(seq));
    expect(gap).toEqual([]);
    expect(got.has(missing[1].seq)).toBe(true);
    expect(stats().cursorResets).toBe(1);
  }, 120_000);
});
