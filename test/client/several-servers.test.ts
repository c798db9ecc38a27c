/**
 * The pool across several appliance addresses (docs/protocol.md §4), over
 * real TLS against two fake servers: new connections take the addresses in
 * turn, a stopped server's address backs off on its own while requests carry
 * on to the other, a request in flight on a dying connection fails instead of
 * being sent again elsewhere, and the options refuse a list that cannot work.
 */
import { StrongroomClient } from '../../client/strongroom-client';
import { StrongroomClientOptions } from '../../client/options';
import { FakeServer } from './fake-server';
import { makePki, TestPki } from './pki-fixture';
import { failure } from './client-failure';

let pki: TestPki;
let first: FakeServer;
let second: FakeServer;
let clients: StrongroomClient[] = [];

function credentials(): Pick<StrongroomClientOptions, 'ca' | 'cert' | 'key'> {
  return { ca: pki.ca.certificatePem, cert: pki.client.cert, key: pki.client.key };
}

function client(options: Partial<StrongroomClientOptions> = {}): StrongroomClient {
  const servers = [first, second].map((s) => ({ host: '127.0.0.1', port: s.port }));
  const made = new StrongroomClient({ servers, ...credentials(), ...options } as StrongroomClientOptions);
  clients.push(made);
  return made;
}

beforeAll(() => {
  pki = makePki();
});

beforeEach(async () => {
  first = await FakeServer.start(pki);
  second = await FakeServer.start(pki);
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients = [];
  await Promise.all([first.stop(), second.stop()]);
});

describe('several addresses', () => {
  it('opens each new connection to the next address in turn', async () => {
    const c = client({ poolSize: 4 });
    const held = Promise.all([first.holdResponses(2), second.holdResponses(2)]);
    const calls = [0, 1, 2, 3].map(() => c.query());
    await held;
    first.releaseHeld();
    second.releaseHeld();
    await Promise.all(calls);
    expect([first.secureConnections, second.secureConnections]).toEqual([2, 2]);
  });

  it('carries on to the other address while one server is stopped; the stopped address backs off on its own', async () => {
    await first.stop();
    const c = client({ poolSize: 2 });
    // Sequential and concurrent requests alike: the first address's backoff never holds back the second.
    for (let i = 0; i < 10; i++) await expect(c.query()).resolves.toMatchObject({ server: 'fake' });
    await expect(Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => c.query()))).resolves.toHaveLength(8);
    expect(second.seen).toHaveLength(18);
    expect(first.secureConnections).toBe(0);
    await first.restart();
    // Back from the stop, the first address takes connections again (a new client: no backoff carried over).
    const c2 = client({ poolSize: 2 });
    await Promise.all([c2.query(), c2.query()]);
    expect(first.secureConnections).toBe(1);
  });

  it('moves a request whose connection never reached its server to the other address', async () => {
    await first.stop();
    const c = client({ poolSize: 1 });
    // The first connection goes to the stopped server: refused before the handshake, so the request was never sent and goes to the second.
    await expect(c.query()).resolves.toMatchObject({ server: 'fake' });
    expect(second.seen.map((s) => s.op)).toEqual(['Query']);
  });

  it('fails a request in flight on a connection that dies, and does not send it again elsewhere', async () => {
    const c = client({ poolSize: 1 });
    await c.query();
    const [served, idle] = first.seen.length === 1 ? [first, second] : [second, first];
    const held = served.holdResponses(1);
    const pending = c.encrypt({ name: 'crm/pii', plaintext: Buffer.from('once') });
    await held;
    served.dropConnections();
    const err = await failure(pending);
    expect(err.code).toBe('UNAVAILABLE');
    expect(idle.seen.filter((s) => s.op === 'Encrypt')).toEqual([]);
    expect(served.seen.filter((s) => s.op === 'Encrypt')).toHaveLength(1);
  });

  it('fails with UNAVAILABLE (ECONNREFUSED) when every address is down', async () => {
    const c = client({ poolSize: 1 });
    await Promise.all([first.stop(), second.stop()]);
    const err = await failure(c.query());
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details.errorCode).toBe('ECONNREFUSED');
  });
});

describe('the servers option', () => {
  it('refuses servers beside host and port, an empty list, and names a bad entry by position', async () => {
    const both = await failure(() => new StrongroomClient({ host: '127.0.0.1', port: 1, servers: [{ host: '127.0.0.1', port: 2 }], ...credentials() } as unknown as StrongroomClientOptions));
    expect([both.code, both.details.field]).toEqual(['INVALID_ARGUMENT', 'servers']);
    const empty = await failure(() => new StrongroomClient({ servers: [], ...credentials() }));
    expect([empty.code, empty.details.field]).toEqual(['INVALID_ARGUMENT', 'servers']);
    const bad = await failure(() => new StrongroomClient({ servers: [{ host: '127.0.0.1', port: 5700 }, { host: '127.0.0.1', port: 0 }], ...credentials() }));
    expect([bad.code, bad.details.field]).toEqual(['INVALID_ARGUMENT', 'servers[1].port']);
  });

  it('still takes host and port alone, naming them in errors as before', async () => {
    const missing = await failure(() => new StrongroomClient({ port: 5700, ...credentials() } as StrongroomClientOptions));
    expect([missing.code, missing.details.field]).toEqual(['INVALID_ARGUMENT', 'host']);
    const c = new StrongroomClient({ host: '127.0.0.1', port: first.port, ...credentials() });
    clients.push(c);
    await expect(c.query()).resolves.toMatchObject({ server: 'fake' });
  });
});
