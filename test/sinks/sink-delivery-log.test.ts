/**
 * A sink's delivery trouble reaches the operational log: one warning when
 * delivery starts failing (the sink, its transport, target, and the error's
 * code and message) and one line when it recovers (failed attempts, events
 * queued and dropped meanwhile), never one per retry and never anything of
 * the events; closed mid-outage, it says what was left undelivered. Real targets that refuse, then accept: a TCP syslog receiver
 * stopped and started again on its port (the SinkManager on real timers),
 * and, on a real appliance with the server's logger, a file sink whose
 * folder cannot be made (a plain file stands in its way; permissions would
 * not stop root) until the file is removed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../common/clock';
import { Logger } from '../../common/logger';
import { systemTimers } from '../../common/timers';
import { EventBus } from '../../domain/events/event-bus';
import { SinkManager } from '../../sinks/sink-manager';
import { parseSinkSpec } from '../../sinks/sink-spec';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { auditEvent, liveChain } from './sink-test-events';
import { startStreamReceiver, StreamReceiver, waitFor } from './syslog-listeners';

interface LogLine {
  level: string;
  message: string;
  meta: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (message: unknown, meta?: unknown) => {
    lines.push({ level, message: String(message), meta: (meta ?? {}) as Record<string, unknown> });
    return logger as never;
  };
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as Logger;
  return logger;
}

/** A sink's delivery lines (not the one line about its cursor at its first start: a new sink has none). */
const sinkLines = (lines: LogLine[], sink: string): LogLine[] => lines.filter((line) => line.meta.sink === sink && !line.message.includes('no saved cursor'));

describe('a sink logs when its delivery starts failing and when it recovers', () => {
  describe('a TCP SIEM that goes away and comes back', () => {
    let receiver: StreamReceiver;
    let manager: SinkManager;
    const lines: LogLine[] = [];

    beforeAll(async () => {
      receiver = await startStreamReceiver();
    });

    afterAll(async () => {
      await manager?.close(100);
      await receiver?.stop();
    });

    it('warns once with the error code while it retries, then says once what the outage cost', async () => {
      const spec = parseSinkSpec('siem', `transport=syslog-tcp host=127.0.0.1 port=${receiver.port} format=cef retry_max_ms=50 queue=4`, '/');
      manager = new SinkManager([spec], { clock: systemClock, timers: systemTimers, version: '1', hostname: 'h', procId: '1', log: recordingLogger(lines) });
      const bus = new EventBus();
      manager.attach(bus);
      const events = liveChain(Array.from({ length: 9 }, (_, i) => auditEvent(i + 1, { endUser: `end-user-${i + 1}`, key: `hr/key-${i + 1}` })));
      const stats = () => manager.stats()[0];

      bus.publish(events[0]);
      await waitFor(() => receiver.messages.length === 1 && stats().connected, 'the first event');
      expect(lines).toEqual([]);

      await receiver.stop();
      await waitFor(() => !stats().connected, 'the sink to see the SIEM go');
      bus.publish(events[1]);
      await waitFor(() => sinkLines(lines, 'siem').length > 0, 'the failure to be logged');
      // Five more events for a queue of four (one holds event 2): three wait, two are dropped.
      for (const live of events.slice(2, 7)) bus.publish(live);
      await waitFor(() => stats().retries >= 4, 'several failed attempts');
      const failing = sinkLines(lines, 'siem');
      expect(failing).toHaveLength(1);
      expect(failing[0]).toMatchObject({ level: 'warn', meta: { sink: 'siem', transport: 'syslog-tcp', format: 'cef', target: `127.0.0.1:${receiver.port}`, code: 'ECONNREFUSED' } });
      expect(failing[0].meta.error).toMatch(/ECONNREFUSED/);

      await receiver.start();
      await waitFor(() => stats().queued === 0 && receiver.messages.length === 5, 'the queue to arrive');
      const after = sinkLines(lines, 'siem');
      expect(after).toHaveLength(2);
      const retries = stats().retries;
      expect(after[1]).toMatchObject({ level: 'warn', meta: { sink: 'siem', transport: 'syslog-tcp', target: `127.0.0.1:${receiver.port}`, failedAttempts: retries, queuedMeanwhile: 3, droppedMeanwhile: 2 } });
      expect(after[1].message).toMatch(/recovered/);
      expect(after[1].meta.failingForMs).toEqual(expect.any(Number));

      // Delivering fine again logs nothing more.
      bus.publish(events[7]);
      await waitFor(() => receiver.messages.length === 6, 'an event after the outage');
      expect(sinkLines(lines, 'siem')).toHaveLength(2);

      // Stopped while the SIEM is away again: the event left behind is reported at close.
      await receiver.stop();
      await waitFor(() => !stats().connected, 'the sink to see the SIEM go again');
      bus.publish(events[8]);
      await waitFor(() => sinkLines(lines, 'siem').length === 3, 'the second outage to be logged');
      await manager.close(50);
      const closing = sinkLines(lines, 'siem');
      expect(closing).toHaveLength(4);
      expect(closing[3]).toMatchObject({ level: 'warn', meta: { sink: 'siem', undelivered: 1, stillFailing: true } });
      expect(closing[3].message).toMatch(/closed with events undelivered/);

      // Nothing of the events is in the log: no end user, key, event id or chain hash.
      const logged = JSON.stringify(lines);
      for (const live of events) {
        for (const value of [live.event.endUser, live.event.key, live.event.eventId, live.hash]) expect(logged).not.toContain(value as string);
      }
    });
  });

  describe('a file sink on a real appliance, with the server\'s logger', () => {
    let dir: string;
    let app: TestAppliance;
    let conn: RawConnection;
    const lines: LogLine[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'strongroom-sink-log-'));
      // A plain file where the sink's folder should be: the folder cannot be made (ENOTDIR or EEXIST), even by root.
      writeFileSync(join(dir, 'audit'), 'in the way');
      app = await startTestAppliance({ audit_sinks: 'archive', 'audit_sink.archive': `transport=file path=${join(dir, 'audit', 'trail.jsonl')} retry_max_ms=50` }, { log: recordingLogger(lines) });
      conn = await app.connect(app.officer);
    });

    afterAll(async () => {
      conn?.destroy();
      await app?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('warns once while the folder cannot be made, and says when the trail is written again', async () => {
      const stats = () => (app.server.services.auditSinkStats?.() ?? [])[0];
      expect((await conn.request('Create', { name: 'hr/archived', algorithm: 'AES-256' })).error).toBeUndefined();
      await waitFor(() => stats().retries >= 3, 'failed attempts to write the file');
      const failing = sinkLines(lines, 'archive');
      expect(failing).toHaveLength(1);
      expect(failing[0]).toMatchObject({ level: 'warn', meta: { sink: 'archive', transport: 'file', target: join(dir, 'audit', 'trail.jsonl') } });
      expect(['ENOTDIR', 'EEXIST']).toContain(failing[0].meta.code);

      rmSync(join(dir, 'audit'));
      await waitFor(() => stats().queued === 0 && stats().delivered > 0, 'the file sink to write');
      const recovered = sinkLines(lines, 'archive');
      expect(recovered).toHaveLength(2);
      expect(recovered[1]).toMatchObject({ level: 'info', meta: { sink: 'archive', transport: 'file', droppedMeanwhile: 0 } });
      expect(recovered[1].meta.failedAttempts).toBeGreaterThanOrEqual(3);
      const written = readFileSync(join(dir, 'audit', 'trail.jsonl'), 'utf8');
      expect(written).toContain('"hr/archived"');
      expect(JSON.stringify(lines)).not.toContain('hr/archived');
    });
  });
});
