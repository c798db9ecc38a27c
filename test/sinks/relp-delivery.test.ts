/**
 * RELP loses nothing when the SIEM dies: a real appliance streams audit
 * events to a real rsyslog (imrelp, rsyslog-relp-siem.ts) through a
 * `transport=relp` sink and, beside it, a plain `syslog-tcp` sink to the
 * same rsyslog. Mid-stream rsyslog is frozen (SIGSTOP), a burst of events
 * is sent to it (the RELP frames wait for acknowledgements that never come;
 * the TCP bytes sit in rsyslog's socket buffers, and the TCP sink has
 * counted them delivered), then it is killed with SIGKILL, events go on
 * being made while it is down, and it is started again.
 *
 * RELP: every event of the trail from the first one forwarded to the head
 * reaches the SIEM at least once, and an event reaches it twice only if it
 * was in doubt (sent, never acknowledged when the session broke: the sink's
 * `inDoubt` counts them), so duplicates ≤ inDoubt. Plain TCP syslog: the
 * burst in the dead process's buffers is lost, though the sink's cursor
 * moved past it — the window docs/audit-sinks.md describes, shown here so
 * that the documentation's claim is tested, not assumed.
 */
import { SinkStats } from '../../sinks/siem-transport';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { RelpSiem, startRelpSiem } from './rsyslog-relp-siem';
import { waitFor } from './syslog-listeners';

/** Requests (one audit event each) before the freeze, in the burst to the frozen SIEM, while it is dead, and after. */
const BEFORE_KILL = 150;
const IN_FLIGHT = 50;
const WHILE_DOWN = 150;
const AFTER_RESTART = 150;

/** The seqs from..to a set lacks. */
function missingFrom(seqs: ReadonlySet<number>, from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((seq) => !seqs.has(seq));
}

describe('a RELP sink when the SIEM is killed mid-stream', () => {
  let siem: RelpSiem;
  let app: TestAppliance;
  let officerConn: RawConnection;

  beforeAll(async () => {
    siem = await startRelpSiem();
    app = await startTestAppliance({
      audit_sinks: 'relp, tcp',
      'audit_sink.relp': `transport=relp host=127.0.0.1 port=${siem.relpPort} format=cef retry_max_ms=200`,
      'audit_sink.tcp': `transport=syslog-tcp host=127.0.0.1 port=${siem.tcpPort} format=cef retry_max_ms=200`,
    });
    officerConn = await app.connect(app.officer);
  }, 60_000);

  afterAll(async () => {
    officerConn?.destroy();
    await app?.stop();
    await siem?.stop();
  });

  const headSeq = (): number => app.appliance.store.audit.auditHead()?.seq ?? 0;
  const seqsAt = (input: string): number[] => siem.records().filter((r) => r.input === input && Number.isInteger(r.seq)).map((r) => r.seq);
  const sinkStats = (name: string): SinkStats => (app.server.services.auditSinkStats?.() ?? []).find((s) => s.name === name) as SinkStats;

  it('delivers every event at least once, and twice only what was in doubt; syslog-tcp loses the burst in the dead SIEM\'s buffers', async () => {
    let made = 0;
    // One event per request: a Get of a key that does not exist (audited, refused).
    const makeEvent = async (): Promise<void> => {
      const response = await officerConn.request('Get', { name: `missing/key-${made++}` });
      expect(response.error).toBeDefined();
    };
    const firstSeq = headSeq() + 1;
    for (let i = 0; i < BEFORE_KILL; i++) await makeEvent();
    await waitFor(() => seqsAt('imrelp').includes(headSeq()) && seqsAt('imtcp').includes(headSeq()), 'rsyslog to take the first events', 30_000);

    siem.pause();
    const tcpBefore = sinkStats('tcp').delivered;
    for (let i = 0; i < IN_FLIGHT; i++) await makeEvent();
    // Sent, not acknowledged (RELP: the batch on the wire, the rest waits in its queue); handed to the kernel, counted delivered (TCP).
    const onTheWire = (): boolean => sinkStats('relp').unacknowledged >= 1 && sinkStats('tcp').delivered >= tcpBefore + IN_FLIGHT;
    await waitFor(onTheWire, 'the burst to be on the wire', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify({ relp: sinkStats('relp'), tcp: sinkStats('tcp'), tcpBefore })}`);
    });
    const burst = { from: headSeq() - IN_FLIGHT + 1, to: headSeq() };
    await siem.kill();
    for (let i = 0; i < WHILE_DOWN; i++) await makeEvent();
    await siem.start();
    for (let i = 0; i < AFTER_RESTART; i++) await makeEvent();
    const head = headSeq();
    await waitFor(() => seqsAt('imrelp').includes(head) && seqsAt('imtcp').includes(head), `rsyslog to take event ${head} from both sinks`, 60_000);

    const relp = seqsAt('imrelp');
    const unique = new Set(relp);
    expect(Math.min(...unique)).toBeLessThanOrEqual(firstSeq);
    const missing = missingFrom(unique, firstSeq, head);
    expect({ missing, diagnostics: missing.length === 0 ? '' : siem.diagnostics }).toEqual({ missing: [], diagnostics: '' });
    const duplicates = relp.length - unique.size;
    const stats = sinkStats('relp');
    expect(stats.inDoubt).toBeGreaterThanOrEqual(1);
    expect(duplicates).toBeLessThanOrEqual(stats.inDoubt);

    const tcpMissing = missingFrom(new Set(seqsAt('imtcp')), firstSeq, head);
    expect(tcpMissing.length).toBeGreaterThan(0);
    // Only the burst in the killed process's buffers: the TCP sink resent nothing it had "delivered".
    expect(tcpMissing.every((seq) => seq >= burst.from && seq <= burst.to)).toBe(true);
    process.stdout.write(`relp-delivery: ${head - firstSeq + 1} events; RELP missing 0, duplicates ${duplicates}, in doubt ${stats.inDoubt}; syslog-tcp missing ${tcpMissing.length} of the ${IN_FLIGHT} in flight\n`);
  }, 180_000);
});
