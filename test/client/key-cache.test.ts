/**
 * Key leasing through the client (docs/protocol.md: "key leasing, for
 * availability") over real TLS against the fake server, with a ManualClock:
 * leased answers come from memory, held copies only while the server cannot
 * be reached, and never after the server says no; cached Buffers are copies,
 * zeroed on eviction and close.
 */
import { ManualClock } from '../../common/clock';
import { isStrongroomClientError } from '../../client/client-error';
import { StrongroomClientOptions } from '../../client/options';
import { KEY_CACHE, StrongroomClient } from '../../client/strongroom-client';
import { FakeServer } from './fake-server';
import { makePki, TestPki } from './pki-fixture';

const LEASE_MS = 1_000;
const HOLD_MS = 5_000;
const NAME = 'hr/payroll';
const MATERIAL = Buffer.from('0123456789abcdef0123456789abcdef');

let pki: TestPki;
let server: FakeServer;
let clock: ManualClock;
let clients: StrongroomClient[] = [];

function client(options: Partial<StrongroomClientOptions> = {}): StrongroomClient {
  const made = new StrongroomClient({
    host: '127.0.0.1', port: server.port, ca: pki.ca.certificatePem, cert: pki.client.cert, key: pki.client.key,
    cache: { leaseMs: LEASE_MS, holdMs: HOLD_MS }, clock, ...options,
  } as StrongroomClientOptions);
  clients.push(made);
  return made;
}

function gets(): number {
  return server.seen.filter((s) => s.op === 'Get').length;
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    if (isStrongroomClientError(err)) return err.code;
    throw err;
  }
  return 'NO_ERROR';
}

function cached(c: StrongroomClient, ref: { name?: string; instance?: string }): Buffer | undefined {
  return c[KEY_CACHE]?.peekMaterial(ref);
}

beforeAll(() => {
  pki = makePki();
});

beforeEach(async () => {
  clock = new ManualClock(1_700_000_000_000);
  server = await FakeServer.start(pki);
  server.keys.set(NAME, { instance: 'payroll-1', material: MATERIAL });
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients = [];
  await server.stop();
});

describe('the key lease', () => {
  it('answers from memory within the lease, and asks the server after it', async () => {
    const c = client();
    expect((await c.get({ name: NAME })).material.equals(MATERIAL)).toBe(true);
    clock.advance(LEASE_MS - 1);
    expect((await c.get({ name: NAME })).material.equals(MATERIAL)).toBe(true);
    expect(gets()).toBe(1);
    clock.advance(1);
    await c.get({ name: NAME });
    expect(gets()).toBe(2);
  });

  it('serves the held copy while the server is stopped, and refuses it after the hold time', async () => {
    const c = client();
    await c.get({ name: NAME });
    const internal = cached(c, { name: NAME }) as Buffer;
    await server.stop();
    clock.advance(HOLD_MS - 1);
    expect((await c.get({ name: NAME })).material.equals(MATERIAL)).toBe(true);
    clock.advance(1);
    expect(await codeOf(c.get({ name: NAME }))).toBe('UNAVAILABLE');
    expect(cached(c, { name: NAME })).toBeUndefined();
    expect(internal.equals(Buffer.alloc(MATERIAL.length))).toBe(true);
  });

  it('serves the held copy when the server does not answer in time (TIMEOUT)', async () => {
    // The held answer costs the whole timeout; the first, unheld Get must still fit in it on a loaded CI machine (200 ms did not).
    const c = client({ requestTimeoutMs: 2_000 });
    await c.get({ name: NAME });
    clock.advance(LEASE_MS);
    const held = server.holdResponses(1);
    const answer = c.get({ name: NAME });
    await held;
    expect((await answer).material.equals(MATERIAL)).toBe(true);
    server.releaseHeld();
  });

  it('does not serve a cached key when the server answers PERMISSION_DENIED, and evicts it', async () => {
    const c = client();
    await c.get({ name: NAME });
    const internal = cached(c, { name: NAME }) as Buffer;
    clock.advance(LEASE_MS);
    server.denied.add(NAME);
    expect(await codeOf(c.get({ name: NAME }))).toBe('PERMISSION_DENIED');
    expect(cached(c, { name: NAME })).toBeUndefined();
    expect(internal.equals(Buffer.alloc(MATERIAL.length))).toBe(true);
    await server.stop();
    expect(await codeOf(c.get({ name: NAME }))).toBe('UNAVAILABLE');
  });

  it('caches a name and an instance name separately', async () => {
    const c = client();
    await c.get({ name: NAME });
    await c.get({ instance: 'payroll-1' });
    await c.get({ instance: 'payroll-1' });
    expect(gets()).toBe(2);
  });
});

describe('cached material', () => {
  it('gives every caller its own copy: zeroing one leaves the others and the cache intact', async () => {
    const c = client();
    const first = await c.get({ name: NAME });
    const second = await c.get({ name: NAME });
    const internal = cached(c, { name: NAME }) as Buffer;
    expect(internal).not.toBe(first.material);
    expect(internal).not.toBe(second.material);
    first.material.fill(0);
    expect(second.material.equals(MATERIAL)).toBe(true);
    second.material.fill(0);
    expect((await c.get({ name: NAME })).material.equals(MATERIAL)).toBe(true);
    expect(internal.equals(MATERIAL)).toBe(true);
  });

  it('is zeroed by close()', async () => {
    const c = client();
    await c.get({ name: NAME });
    const internal = cached(c, { name: NAME }) as Buffer;
    await c.close();
    expect(internal.equals(Buffer.alloc(MATERIAL.length))).toBe(true);
  });

  it('is zeroed by destroy()', async () => {
    const c = client();
    await c.get({ instance: 'payroll-1' });
    const internal = cached(c, { instance: 'payroll-1' }) as Buffer;
    c.destroy();
    expect(internal.equals(Buffer.alloc(MATERIAL.length))).toBe(true);
  });

  it('without a cache, every get() asks the server', async () => {
    const c = client({ cache: undefined });
    await c.get({ name: NAME });
    await c.get({ name: NAME });
    expect(gets()).toBe(2);
    expect(c[KEY_CACHE]).toBeNull();
  });
});
