/**
 * The event stream's limits, on a real appliance with a small per-subscriber
 * buffer: a subscriber that never reads is dropped (close code 4408,
 * SUBSCRIBER_TOO_SLOW, counted and audited) while an app keeps being served
 * and a reading subscriber keeps receiving; max_event_subscribers caps the
 * streams; closing the server ends every stream.
 */
import { WebSocket } from 'ws';
import { Credentials, RawConnection, SOCKET_WAIT_MS, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { auditEvents, openStream, readUntil, refusalCode, waitForAudit } from './event-support';

/**
 * A bound on the Batches sent to overflow the slow subscriber: with BIG_META
 * each event is about 5 KB, so this is about 150 MB of events, far more than
 * loopback socket buffers hold (Linux autotunes them up to tens of MB).
 */
const MAX_BATCHES = 500;
const ITEMS_PER_BATCH = 64;
/** The largest request meta (§3.1): it is in every audit event, so each event is big and the buffers fill fast. */
const BIG_META = { endUser: 'u'.repeat(256), purpose: 'p'.repeat(256), custom: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`field${i}`, 'c'.repeat(256)])) };
/** This test moves tens of megabytes through TLS on a shared 2-core machine. */
const DROP_TEST_TIMEOUT_MS = 180_000;

/** A subscriber that reads its `subscribed` message, then stops reading (its socket is paused). */
function stalledSubscriber(app: TestAppliance, credentials: Credentials): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${app.server.eventsPort}/events?types=audit`, {
      ca: credentials.caPem,
      cert: credentials.certificatePem,
      key: credentials.privateKeyPem,
      servername: 'localhost',
    } as never);
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    const timer = setTimeout(() => reject(new Error('no subscribed message')), SOCKET_WAIT_MS);
    ws.once('message', () => {
      clearTimeout(timer);
      ws.pause();
      resolve({ ws, closed });
    });
    ws.once('error', reject);
  });
}

describe('event stream limits', () => {
  let app: TestAppliance;
  let appCreds: Credentials;
  let conn: RawConnection;

  beforeAll(async () => {
    app = await startTestAppliance({ event_buffer_bytes: '262144', max_event_subscribers: '3' });
    appCreds = app.issue('busy-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'ops/k' })).error).toBeUndefined();
    // A grant of material is dual-controlled: the fixture's two approver officers approve it.
    expect((await app.approve(await officer.request('PolicyGrant', { client: 'busy-app', pattern: 'ops/*', permissions: ['get'] }))).state).toBe('executed');
    officer.destroy();
    conn = await app.connect(appCreds);
  });

  afterAll(async () => app.stop());

  it('drops a subscriber that never reads, while the app keeps being served and a reading subscriber keeps receiving', async () => {
    const before = app.appliance.store.audit.auditHead()?.seq ?? 0;
    const reader = await openStream(app, app.officer, { types: ['audit'], auditTypes: ['operation'] });
    const stalled = await stalledSubscriber(app, app.officer);
    const items = Array.from({ length: ITEMS_PER_BATCH }, () => ({ op: 'Get', args: { name: 'ops/k' } }));
    let batches = 0;
    let served = 0;
    let readerGot = 0;
    while (app.server.eventServer.stats.droppedSlow === 0 && batches < MAX_BATCHES) {
      const res = await conn.request('Batch', { items }, BIG_META);
      batches++;
      if (res.result) served += (res.result as { items: Array<{ result?: unknown }> }).items.filter((i) => i.result !== undefined).length;
      else expect(res.error?.code).toBe('RATE_LIMITED');
      // The reading subscriber drains what it has, so only the stalled one falls behind.
      for (let r = 0; r < 100_000; r++) {
        const read = await reader.read(0);
        if (read.type !== 'event') break;
        readerGot++;
      }
    }
    expect(app.server.eventServer.stats.droppedSlow).toBe(1);
    expect(served).toBeGreaterThan(0);
    // The app is still served after the drop.
    expect((await conn.request('Get', { name: 'ops/k' })).result).toBeDefined();
    // Once it reads again, it finds the stream closed: with 4408 if it read that far before the server gave up on it.
    stalled.ws.resume();
    expect([4408, 1006]).toContain(await stalled.closed);
    const drop = await waitForAudit(app, before, (events) => events.some((e) => e.type === 'events-subscribe' && e.custom.action === 'close'));
    expect(drop.find((e) => e.type === 'events-subscribe' && e.custom.action === 'close')).toMatchObject({ result: 'SUBSCRIBER_TOO_SLOW', custom: { closeCode: '4408' } });
    // The reading subscriber was not dropped and is still receiving.
    expect(readerGot).toBeGreaterThan(0);
    expect((await conn.request('Get', { name: 'ops/k' })).result).toBeDefined();
    const more = await readUntil(reader, (events) => auditEvents(events).some((e) => e.event.operation === 'Get'));
    expect(more.end).toBeUndefined();
    expect(app.server.eventServer.stats.subscribers).toBe(1);
    await reader.close();
  }, DROP_TEST_TIMEOUT_MS);

  it('refuses subscribers beyond max_event_subscribers with SERVER_BUSY, and takes them again once one leaves', async () => {
    const streams = [await openStream(app, app.officer), await openStream(app, app.officer), await openStream(app, app.officer)];
    expect(await refusalCode(openStream(app, app.officer))).toBe('SERVER_BUSY');
    await streams.pop()?.close();
    streams.push(await openStream(app, app.officer));
    for (const stream of streams) await stream.close();
  });

  it('refuses a plain HTTP request and an unknown path', async () => {
    const { request } = await import('node:https');
    const status = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: app.server.eventsPort, path, ca: app.officer.caPem, cert: app.officer.certificatePem, key: app.officer.privateKeyPem, servername: 'localhost', headers }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const plain = await status('/events');
    expect(plain.status).toBe(426);
    expect(JSON.parse(plain.body).error.code).toBe('INVALID_REQUEST');
    const ws = new WebSocket(`wss://127.0.0.1:${app.server.eventsPort}/keys`, { ca: app.officer.caPem, cert: app.officer.certificatePem, key: app.officer.privateKeyPem, servername: 'localhost' } as never);
    const refused = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    ws.terminate();
    expect(refused).toBe(404);
  });

  it('ends every stream when the server closes', async () => {
    const a = await openStream(app, app.officer);
    const b = await openStream(app, app.officer, { types: ['approval'] });
    await app.server.eventServer.close();
    for (const stream of [a, b]) {
      const end = await readUntil(stream, () => false);
      expect(end.end).toMatchObject({ code: 'UNAVAILABLE', details: { closeCode: 1001 } });
    }
    expect(app.server.eventServer.stats.subscribers).toBe(0);
    expect(await refusalCode(openStream(app, app.officer))).toBe('UNAVAILABLE');
  });
});

describe('event stream keepalive', () => {
  let app: TestAppliance;
  beforeAll(async () => {
    app = await startTestAppliance({ events_ping_interval_ms: '100' });
  });
  afterAll(async () => app.stop());

  it('drops a subscriber that does not answer pings, and keeps one that does', async () => {
    const before = app.appliance.store.audit.auditHead()?.seq ?? 0;
    const alive = await openStream(app, app.officer, { types: ['approval'] });
    const stalled = await stalledSubscriber(app, app.officer);
    const events = await waitForAudit(app, before, (seen) => seen.some((e) => e.type === 'events-subscribe' && e.custom.action === 'close'));
    const closes = events.filter((e) => e.type === 'events-subscribe' && e.custom.action === 'close');
    expect(closes).toEqual([expect.objectContaining({ result: 'UNAVAILABLE', custom: expect.objectContaining({ reason: 'no answer to the keepalive ping', closeCode: '1006' }) })]);
    // The subscriber that answers pings is still subscribed, many intervals later.
    expect(app.server.eventServer.stats.subscribers).toBe(1);
    app.server.services.events.publish({ kind: 'rollover-notice', key: 'a/b', namespace: 'a', dueAt: 'x', time: 'y' });
    app.server.services.events.publish({ kind: 'approval', action: 'expired', requestId: 'r', operation: 'Destroy', namespace: null, key: null, requester: 'o', actor: null, approvals: 0, required: 2, digest: '', expiresAt: '', time: '' });
    const got = await readUntil(alive, (seen) => seen.length >= 1);
    expect(got.events).toEqual([expect.objectContaining({ kind: 'approval', action: 'expired' })]);
    stalled.ws.terminate();
    await alive.close();
  });
});
