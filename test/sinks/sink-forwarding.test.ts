/**
 * SIEM forwarding end to end, on a real appliance (SoftHSM2, SQLite, mTLS)
 * and real receivers on 127.0.0.1: a TCP syslog receiver (CEF), a UDP one
 * (LEEF), a TLS one whose certificate is checked against a configured CA
 * (JSON), a TLS sink with the wrong CA (refused), a JSON-lines file, and a
 * tenant file sink limited to namespace hr and type operation.
 *
 * While the TCP receiver is down every request is still answered and the
 * sink's queue fills to its bound while the rest waits in the trail (its
 * spool); when it is back on the same port, every event of the outage
 * arrives in chain order and none is dropped (test/sinks/sink-spool.test.ts
 * has the spool bound and restarts). Finally no sink's output holds the
 * bytes of any key fetched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainVerdict, verifyRecords } from '../../domain/audit/audit-chain';
import { AuditRecord } from '../../storage/audit-store';
import { parseAuditLine } from '../../protocol/audit-line';
import { AuditWriter } from '../../domain/audit/audit-writer';
import { systemClock } from '../../common/clock';
import { randomIds } from '../../domain/ids';
import { adminEvent } from '../../domain/audit/audit-events';
import { SinkStats } from '../../sinks/siem-transport';
import { makePki } from '../client/pki-fixture';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { parseCef, parseLeef } from './sink-test-events';
import { parseSyslog, Receiver, startStreamReceiver, startUdpReceiver, StreamReceiver, waitFor } from './syslog-listeners';

/** The TCP sink's in-memory queue bound: the outage below makes more events than this. */
const TCP_QUEUE = 40;
/** Gets served while the TCP receiver is down. */
const OUTAGE_GETS = 100;
const NASTY_USER = 'ålice|x=y\\z\nsecond line';
const NASTY_KEY = 'hr/pay|roll=1\\ü\nx';

/** Verifies forwarded records from the first one received (the trail may hold events from before this server started). */
function verifyForwarded(records: AuditRecord[]): ChainVerdict {
  return verifyRecords(records, { seq: records[0].seq - 1, hash: records[0].prevHash });
}

/** first, first+1, …, last. */
function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The seq of the newest syslog message a receiver got (0: none). */
function lastSeq(messages: string[]): number {
  return messages.length === 0 ? 0 : parseSyslog(messages[messages.length - 1]).seq;
}

describe('audit sinks forward the trail to SIEMs', () => {
  let dir: string;
  let tcp: StreamReceiver;
  let tlsReceiver: StreamReceiver;
  let wrongCaReceiver: StreamReceiver;
  let udp: Receiver;
  let app: TestAppliance;
  let appConn: RawConnection;
  let officerConn: RawConnection;
  const fetched: Buffer[] = [];
  const stats = (name: string): SinkStats => (app.server.services.auditSinkStats?.() ?? []).find((s) => s.name === name) as SinkStats;
  const headSeq = (): number => app.appliance.store.audit.auditHead()?.seq ?? 0;

  async function get(name: string, meta?: Record<string, unknown>): Promise<void> {
    const res = await appConn.request('Get', { name }, meta);
    expect(res.error).toBeUndefined();
    fetched.push(Buffer.from((res.result as { material: string }).material, 'base64'));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-sinks-'));
    const pki = makePki('Strongroom SIEM Test CA');
    const otherPki = makePki('Some Other CA');
    writeFileSync(join(dir, 'siem-ca.pem'), pki.ca.certificatePem);
    tcp = await startStreamReceiver();
    udp = await startUdpReceiver();
    tlsReceiver = await startStreamReceiver({ tls: { cert: pki.server.cert, key: pki.server.key } });
    wrongCaReceiver = await startStreamReceiver({ tls: { cert: otherPki.server.cert, key: otherPki.server.key } });
    app = await startTestAppliance({
      audit_sinks: 'tcp, udp, tls, wrong-ca, file, hr-only',
      'audit_sink.tcp': `transport=syslog-tcp host=127.0.0.1 port=${tcp.port} format=cef queue=${TCP_QUEUE} retry_max_ms=100`,
      'audit_sink.udp': `transport=syslog-udp host=127.0.0.1 port=${udp.port} format=leef max_datagram=8192`,
      'audit_sink.tls': `transport=syslog-tls host=127.0.0.1 port=${tlsReceiver.port} format=json ca=${join(dir, 'siem-ca.pem')}`,
      'audit_sink.wrong-ca': `transport=syslog-tls host=127.0.0.1 port=${wrongCaReceiver.port} ca=${join(dir, 'siem-ca.pem')} queue=5 retry_max_ms=100`,
      'audit_sink.file': `transport=file path=${join(dir, 'trail.jsonl')}`,
      'audit_sink.hr-only': `transport=file path=${join(dir, 'hr.jsonl')} namespaces=hr types=operation`,
    });
    officerConn = await app.connect(app.officer);
    for (const name of ['hr/payroll', 'pay/cards']) expect((await officerConn.request('Create', { name, algorithm: 'AES-256' })).error).toBeUndefined();
    // The client first: a grant of material goes to an existing client. It is dual-controlled: the fixture's two approver officers approve it.
    const appCreds: Credentials = app.issue('sink-app', 'app');
    expect((await app.approve(await officerConn.request('PolicyGrant', { client: 'sink-app', pattern: '*/*', permissions: ['get'] }))).state).toBe('executed');
    appConn = await app.connect(appCreds);
  });

  afterAll(async () => {
    appConn?.destroy();
    officerConn?.destroy();
    await app?.stop();
    await Promise.all([tcp?.stop(), udp?.stop(), tlsReceiver?.stop(), wrongCaReceiver?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards every event with its seq and chain hash, escaped per format, to TCP, UDP, TLS and the file', async () => {
    await get('hr/payroll', { endUser: NASTY_USER, purpose: 'audit€' });
    await get('pay/cards');
    expect((await appConn.request('Get', { name: NASTY_KEY }, { endUser: NASTY_USER })).error?.code).toBe('INVALID_ARGUMENT');
    const head = headSeq();
    await waitFor(() => lastSeq(tcp.messages) === head && lastSeq(tlsReceiver.messages) === head && stats('file').queued === 0 && stats('udp').queued === 0, 'every sink to have every event');

    // TCP, CEF: seq and hash in the SD and in the CEF record; in order, from the first event of this server on.
    const cef = tcp.messages.map(parseSyslog);
    const first = cef[0].seq;
    expect(cef.map((m) => m.seq)).toEqual(range(first, head));
    const nastyCef = cef.map((m) => parseCef(m.body)).filter((r) => r.fields.duser === NASTY_USER);
    expect(nastyCef).toHaveLength(2);
    expect(nastyCef.map((r) => r.fields.cs1)).toEqual(['hr/payroll', NASTY_KEY]);
    expect(nastyCef[1].fields.outcome).toBe('INVALID_ARGUMENT');
    for (const m of cef) expect(parseCef(m.body).fields.cs3).toBe(m.hash);

    // UDP, LEEF.
    const leef = udp.messages.map(parseSyslog);
    await waitFor(() => udp.messages.length >= head - first + 1, 'every datagram');
    expect(leef.length).toBe(head - first + 1);
    expect(udp.messages.map((m) => parseSyslog(m).seq).sort((a, b) => a - b)).toEqual(range(first, head));
    const nastyLeef = leef.map((m) => parseLeef(m.body)).filter((r) => r.fields.endUser === NASTY_USER);
    expect(nastyLeef.map((r) => r.fields.key).sort()).toEqual([NASTY_KEY, 'hr/payroll'].sort());

    // TLS, JSON: the export line in MSG, and the whole chain verifies on the SIEM's side.
    const lines = tlsReceiver.messages.map((m) => parseSyslog(m).body);
    expect(verifyForwarded(lines.map((line, i) => parseAuditLine(line, i + 1)))).toEqual({ ok: true, events: head - first + 1 });

    // The file sink is `audit verify --from-file` input: it verifies, and an altered line is caught.
    const fileLines = readFileSync(join(dir, 'trail.jsonl'), 'utf8').trimEnd().split('\n');
    expect(verifyForwarded(fileLines.map((line, i) => parseAuditLine(line, i + 1)))).toEqual({ ok: true, events: head - first + 1 });
    const altered = fileLines.map((line) => line.replace('"pay/cards"', '"pay/cardz"'));
    expect(verifyForwarded(altered.map((line, i) => parseAuditLine(line, i + 1))).ok).toBe(false);
    // A receiver that lost an event sees where.
    const missing = fileLines.filter((_, i) => i !== 1).map((line, i) => parseAuditLine(line, i + 1));
    expect(verifyForwarded(missing)).toMatchObject({ ok: false, firstBadSeq: first + 1 });
  });

  it('forwards in its place an event another writer appended to the trail, so the SIEM sees no gap', async () => {
    // Another process (a local-mode CLI) appends to the same keychain: its events never cross the server's bus.
    const other = new AuditWriter(app.appliance.store.audit, () => undefined);
    const written = other.record(adminEvent({ clock: systemClock, newId: randomIds.newId }, 'cli-admin-action', 'pay/cards', null));
    other.flush();
    await written;
    const injected = headSeq();
    await get('pay/cards');
    // Queued 0 is not delivered: wait until the receiver has the newest event itself.
    await waitFor(() => stats('file').queued === 0 && lastSeq(tcp.messages) === headSeq(), 'the sinks to drain');
    const lines = readFileSync(join(dir, 'trail.jsonl'), 'utf8').trimEnd().split('\n').map((line, i) => parseAuditLine(line, i + 1));
    expect(lines.map((r) => r.seq)).toContain(injected);
    expect(verifyForwarded(lines)).toMatchObject({ ok: true, events: lines.length });
    expect(JSON.parse(lines.find((r) => r.seq === injected)?.event ?? '{}').type).toBe('cli-admin-action');
    expect(tcp.messages.map((m) => parseSyslog(m).seq).slice(-2)).toEqual([injected, injected + 1]);
  });

  it('refuses a SIEM whose certificate the configured CA did not issue, and counts what it could not deliver', async () => {
    await waitFor(() => stats('wrong-ca').retries > 0, 'a refused TLS attempt');
    const wrong = stats('wrong-ca');
    expect(wrong.delivered).toBe(0);
    expect(wrong.connected).toBe(false);
    expect(wrong.lastError).toMatch(/certificate/i);
    expect(wrongCaReceiver.messages).toEqual([]);
    // Nothing is dropped: the queue holds its bound, the rest waits in the trail.
    expect(wrong.queued).toBeLessThanOrEqual(5);
    expect(wrong.dropped).toBe(0);
    await waitFor(() => stats('wrong-ca').backlog === headSeq(), 'the refused sink to count every event as waiting');
  });

  it('limits a tenant sink to its namespace and event types', async () => {
    await waitFor(() => stats('hr-only').queued === 0 && stats('hr-only').delivered > 0, 'the hr sink to drain');
    const events = readFileSync(join(dir, 'hr.jsonl'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { event: { key: string | null; type: string } });
    expect(events.length).toBeGreaterThan(0);
    for (const { event } of events) {
      expect(event.key?.startsWith('hr/')).toBe(true);
      expect(event.type).toBe('operation');
    }
    expect(events.some(({ event }) => event.key === 'hr/payroll')).toBe(true);
  });

  it('keeps serving while the TCP SIEM is down, then delivers every event of the outage in order, past its queue bound, dropping none', async () => {
    await waitFor(() => stats('tcp').queued === 0 && parseSyslog(tcp.messages[tcp.messages.length - 1]).seq === headSeq(), 'the TCP sink to be idle');
    const before = stats('tcp');
    await tcp.stop();
    await waitFor(() => !stats('tcp').connected, 'the sink to notice the SIEM went away');
    const firstDown = headSeq() + 1;
    const received = tcp.messages.length;

    // Every request is answered while nothing can be delivered: the server does not wait on the sink.
    for (let i = 0; i < OUTAGE_GETS; i++) await get(i % 2 === 0 ? 'hr/payroll' : 'pay/cards');
    const down = stats('tcp');
    expect(tcp.listening).toBe(false);
    expect(down.delivered).toBe(before.delivered);
    expect(down.queued).toBe(TCP_QUEUE);
    expect(down.dropped).toBe(before.dropped);
    expect(down.backlog).toBe(OUTAGE_GETS);
    expect(headSeq()).toBe(firstDown + OUTAGE_GETS - 1);

    await tcp.start();
    await get('pay/cards');
    const last = headSeq();
    await waitFor(() => lastSeq(tcp.messages) === last, 'every event of the outage and after it');
    const after = tcp.messages.slice(received).map((m) => parseSyslog(m).seq);
    expect(after).toEqual(range(firstDown, last));
    const up = stats('tcp');
    expect(up).toMatchObject({ connected: true, queued: 0, dropped: 0, backlog: 0 });
    expect(up.retries).toBeGreaterThan(before.retries);
    // The other sinks lost nothing meanwhile.
    await waitFor(() => stats('file').queued === 0 && stats('file').delivered === stats('tcp').delivered + stats('tcp').dropped, 'the file sink to have everything');
    expect(stats('file').dropped).toBe(0);
  });

  it('reports each sink in Query for officers, not for applications', async () => {
    const officerView = (await officerConn.request('Query')).result as { auditSinks: SinkStats[] };
    expect(officerView.auditSinks.map((s) => s.name)).toEqual(['tcp', 'udp', 'tls', 'wrong-ca', 'file', 'hr-only']);
    expect(officerView.auditSinks[0]).toMatchObject({ transport: 'syslog-tcp', format: 'cef', target: `127.0.0.1:${tcp.port}`, dropped: 0, backlog: 0 });
    const appView = (await appConn.request('Query')).result as Record<string, unknown>;
    expect(appView.auditSinks).toBeUndefined();
  });

  it('sends no byte of any key fetched to any sink, raw, hex or base64', async () => {
    await waitFor(() => stats('udp').queued === 0 && stats('tls').queued === 0 && stats('file').queued === 0, 'the sinks to drain');
    expect(fetched.length).toBeGreaterThan(OUTAGE_GETS);
    const outputs = [
      ...tcp.raw,
      ...udp.raw,
      ...tlsReceiver.raw,
      readFileSync(join(dir, 'trail.jsonl')),
      readFileSync(join(dir, 'hr.jsonl')),
    ];
    const all = Buffer.concat(outputs);
    const text = all.toString('utf8');
    expect(all.length).toBeGreaterThan(10_000);
    for (const material of new Map(fetched.map((m) => [m.toString('hex'), m])).values()) {
      expect(all.includes(material)).toBe(false);
      expect(text.toLowerCase().includes(material.toString('hex'))).toBe(false);
      expect(text.includes(material.toString('base64'))).toBe(false);
      expect(text.includes(material.toString('base64url'))).toBe(false);
    }
  });
});
