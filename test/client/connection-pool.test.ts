/**
 * The client's connections and pool over real TLS against the fake server
 * (docs/protocol.md §2, §4, §7): pipelining with out-of-order responses,
 * lazy opening up to poolSize, queueing at maxInFlight, timeouts, lost
 * connections and reconnecting, server error codes, teardown.
 */
import { StrongroomClient } from '../../client/strongroom-client';
import { StrongroomClientError } from '../../client/client-error';
import { StrongroomClientOptions } from '../../client/options';
import { FakeServer } from './fake-server';
import { makePki, TestPki } from './pki-fixture';
import { failure } from './client-failure';

let pki: TestPki;
let server: FakeServer;
let clients: StrongroomClient[] = [];

function client(options: Partial<StrongroomClientOptions> = {}): StrongroomClient {
  const made = new StrongroomClient({ host: '127.0.0.1', port: server.port, ca: pki.ca.certificatePem, cert: pki.client.cert, key: pki.client.key, ...options } as StrongroomClientOptions);
  clients.push(made);
  return made;
}

beforeAll(() => {
  pki = makePki();
});

beforeEach(async () => {
  server = await FakeServer.start(pki);
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients = [];
  await server.stop();
});

describe('pipelining', () => {
  it('matches each response to its request when the server answers out of order', async () => {
    const c = client({ poolSize: 1 });
    const held = server.holdResponses(5);
    const calls = [0, 1, 2, 3, 4].map((i) => c.encrypt({ name: 'crm/pii', plaintext: Buffer.from(`message ${i}`) }));
    await held;
    server.releaseHeld('reverse');
    const results = await Promise.all(calls);
    results.forEach((r, i) => expect(r.ciphertext.toString()).toBe(`enc:message ${i}`));
    expect(server.secureConnections).toBe(1);
  });

  it('uses per-connection increasing integer ids', async () => {
    const c = client({ poolSize: 1 });
    await Promise.all([c.query(), c.query(), c.query()]);
    await c.query();
    expect(server.seen.map((s) => s.id)).toEqual([1, 2, 3, 4]);
  });

  it('converts Buffers to base64 and back', async () => {
    const c = client();
    const plaintext = Buffer.from([0, 255, 1, 254]);
    const { ciphertext, instance } = await c.encrypt({ name: 'crm/pii', plaintext });
    expect(Buffer.isBuffer(ciphertext)).toBe(true);
    expect(ciphertext.equals(Buffer.concat([Buffer.from('enc:'), plaintext]))).toBe(true);
    expect(instance).toBe('crm/pii#1');
  });
});

describe('the pool', () => {
  it('opens connections lazily and never more than poolSize, spreading requests over them', async () => {
    const c = client({ poolSize: 2 });
    await c.query();
    expect(server.secureConnections).toBe(1);
    const held = server.holdResponses(6);
    const calls = Array.from({ length: 6 }, () => c.query());
    await held;
    server.releaseHeld();
    await Promise.all(calls);
    expect(server.secureConnections).toBe(2);
    expect(c.connectionsOpened).toBe(2);
    const perConnection = [1, 2].map((n) => server.seen.filter((s) => s.connection === n).length);
    expect(perConnection[0] + perConnection[1]).toBe(7);
    expect(Math.min(...perConnection)).toBeGreaterThanOrEqual(3);
  });

  it('queues requests while every connection is at maxInFlight and sends them as slots free', async () => {
    const c = client({ poolSize: 1, maxInFlightPerConnection: 2 });
    const held = server.holdResponses(2);
    const calls = [c.query(), c.query(), c.query()];
    await held;
    await client().query(); // a round trip on another connection: had the third request been sent, it would be seen by now
    expect(server.seen.filter((s) => s.connection === 1)).toHaveLength(2);
    server.releaseHeld();
    await Promise.all(calls);
    expect(server.seen.filter((s) => s.connection === 1)).toHaveLength(3);
  });
});

describe('failures', () => {
  it('rejects a request that gets no answer in time with TIMEOUT; the connection stays usable and the late answer is dropped', async () => {
    const c = client({ poolSize: 1, requestTimeoutMs: 300 });
    await c.query();
    const held = server.holdResponses(1);
    const late = c.encrypt({ name: 'crm/pii', plaintext: Buffer.from('late') });
    await held;
    const err = await failure(late);
    expect(err.code).toBe('TIMEOUT');
    server.releaseHeld();
    const next = await c.encrypt({ name: 'crm/pii', plaintext: Buffer.from('next') });
    expect(next.ciphertext.toString()).toBe('enc:next');
    expect(server.secureConnections).toBe(1);
  });

  it('rejects pending requests with UNAVAILABLE when the server goes away, and reconnects when it is back', async () => {
    const c = client({ poolSize: 1 });
    const held = server.holdResponses(2);
    const pending = [c.query(), c.query()];
    await held;
    await server.stop();
    for (const p of pending) {
      const err = await failure(p);
      expect(err.code).toBe('UNAVAILABLE');
      expect(typeof err.details.errorCode).toBe('string');
    }
    const down = await failure(c.query());
    expect(down.code).toBe('UNAVAILABLE');
    expect(down.details.errorCode).toBe('ECONNREFUSED');
    await server.restart();
    await expect(c.query()).resolves.toMatchObject({ server: 'fake' });
  });

  it('makes one connection attempt per request while the server is down (backoff, no busy loop)', async () => {
    const c = client({ poolSize: 4 });
    await server.stop();
    for (let i = 0; i < 4; i++) expect((await failure(c.query())).code).toBe('UNAVAILABLE');
    expect(c.connectionsOpened).toBe(4);
  });

  it('surfaces a server error response with its code and details; the connection stays open', async () => {
    const c = client();
    server.errors.set('Encrypt', 'SEALED');
    const err = await failure(c.encrypt({ name: 'crm/pii', plaintext: Buffer.from('x') }));
    expect(err).toBeInstanceOf(StrongroomClientError);
    expect(err.code).toBe('SEALED');
    expect(err.details).toEqual({ op: 'Encrypt' });
    await c.query();
    expect(server.secureConnections).toBe(1);
  });

  it('closes a connection that sends an undecodable response, rejecting its pending requests', async () => {
    const c = client({ poolSize: 1 });
    await c.query();
    server.corruptNextResponse();
    const err = await failure(c.query());
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details.errorCode).toBe('MALFORMED_RESPONSE');
    await c.query();
    expect(server.secureConnections).toBe(2);
  });

  it('rejects with the server code of a connection-level error (id null), such as SERVER_BUSY', async () => {
    server.refuseWith = 'SERVER_BUSY';
    const err = await failure(client().query());
    expect(err.code).toBe('SERVER_BUSY');
  });

  it('refuses locally a request bigger than maxFrameBytes (FRAME_TOO_LARGE), without sending it', async () => {
    const c = client({ maxFrameBytes: 1024 });
    const err = await failure(c.encrypt({ name: 'crm/pii', plaintext: Buffer.alloc(2000) }));
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(server.seen).toHaveLength(0);
  });

  it('refuses an unknown operation with INVALID_ARGUMENT', async () => {
    const c = client();
    const err = await failure(c.request('Nope' as never));
    expect(err.code).toBe('INVALID_ARGUMENT');
  });
});

describe('teardown', () => {
  it('destroy() rejects pending requests with UNAVAILABLE at once; later requests fail too', async () => {
    const c = client();
    const held = server.holdResponses(1);
    const pending = c.query();
    await held;
    c.destroy();
    const err = await failure(pending);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details.errorCode).toBe('CLIENT_DESTROYED');
    expect((await failure(c.query())).details.errorCode).toBe('CLIENT_CLOSED');
  });

  it('close() lets requests in flight finish, refuses new ones, then ends the connections', async () => {
    const c = client();
    const held = server.holdResponses(1);
    const pending = c.query();
    await held;
    const closing = c.close(5_000);
    expect((await failure(c.query())).details.errorCode).toBe('CLIENT_CLOSED');
    server.releaseHeld();
    await expect(pending).resolves.toMatchObject({ server: 'fake' });
    await closing;
  });
});
