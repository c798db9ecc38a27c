/**
 * The key server closes gracefully: no new connections, a request already
 * read is answered (after its audit promise settles) before its socket
 * closes, and a request that never finishes is cut off at the close bound.
 * A stub dispatcher holds the operation open, so "in flight" is a fact of
 * the test, not a race.
 */
import { connect, TLSSocket } from 'node:tls';
import { systemClock } from '../../common/clock';
import { systemTimers } from '../../common/timers';
import { RateLimiter } from '../../common/rate-limiter';
import { encodeFrame, FrameDecoder } from '../../protocol/frame-codec';
import { decodeResponse, DecodedResponse } from '../../protocol/response';
import { Dispatcher } from '../../operations/dispatcher';
import { KeyServer } from '../../server/tls/key-server';
import { makePki, TestPki } from '../client/pki-fixture';

const WAIT_MS = 10_000;

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A dispatcher whose every request stays in flight until the test lets it finish. */
function heldDispatcher() {
  const received = deferred<void>();
  const release = deferred<unknown>();
  const auditDurable = deferred<void>();
  const dispatcher = {
    dispatch: (_request: unknown, audits: Array<Promise<void>>) => {
      audits.push(auditDurable.promise);
      received.resolve();
      return release.promise;
    },
  } as unknown as Dispatcher;
  return { dispatcher, received: received.promise, release: release.resolve, durable: auditDurable.resolve };
}

function startServer(pki: TestPki, dispatcher: Dispatcher): KeyServer {
  return new KeyServer({
    host: '127.0.0.1',
    port: 0,
    certificatePem: pki.server.cert,
    privateKeyPem: Buffer.from(pki.server.key),
    caPem: pki.ca.certificatePem,
    handshakeTimeoutMs: 5000,
    maxConnections: 10,
    maxConnectionsPerClient: 10,
    clock: systemClock,
    timers: systemTimers,
    limits: { maxFrameBytes: 65536, maxJsonDepth: 16, maxJsonElements: 1000, maxBatchItems: 8, maxInFlight: 8, rateLimitPerSecond: 1000 },
    idleTimeoutMs: 60_000,
    frameTimeoutMs: 60_000,
    dispatcher,
    rateLimiter: new RateLimiter(systemClock, 1000, 2000),
    resolveIdentity: (fingerprint256) => ({ name: 'billing-app', role: 'app', groups: [], fingerprint256, subject: 'CN=billing-app' }),
    onInternalError: () => undefined,
  });
}

interface Client {
  readonly socket: TLSSocket;
  readonly responses: DecodedResponse[];
  readonly closed: Promise<void>;
}

function openClient(pki: TestPki, port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: pki.ca.certificatePem, cert: pki.client.cert, key: pki.client.key, servername: 'localhost' });
    const decoder = new FrameDecoder(1 << 20);
    const responses: DecodedResponse[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) responses.push(decodeResponse(frame));
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('secureConnect', () => resolve({ socket, responses, closed }));
    socket.once('error', reject);
  });
}

function withTimeout<T>(work: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: not within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

describe('graceful close of the key server', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki();
  });

  it('answers a request already in flight before the socket closes, and accepts no new connection meanwhile', async () => {
    const held = heldDispatcher();
    const server = startServer(pki, held.dispatcher);
    const port = await server.listen();
    const client = await openClient(pki, port);
    client.socket.write(encodeFrame(Buffer.from(JSON.stringify({ id: 7, op: 'Query', args: {} }))));
    await withTimeout(held.received, 'the request reached the dispatcher');

    const closing = server.close();
    // While it drains, the listener takes no one new.
    await expect(withTimeout(openClient(pki, port), 'a refused connection')).rejects.toThrow();
    held.release({ answer: 42 });
    held.durable();
    await withTimeout(client.closed, 'the connection closed');
    await withTimeout(closing, 'close resolved');
    expect(client.responses).toEqual([{ id: 7, result: { answer: 42 } }]);
  });

  it('cuts off a request that does not finish within the close bound', async () => {
    const held = heldDispatcher();
    const server = startServer(pki, held.dispatcher);
    const port = await server.listen();
    const client = await openClient(pki, port);
    client.socket.write(encodeFrame(Buffer.from(JSON.stringify({ id: 'stuck', op: 'Query', args: {} }))));
    await withTimeout(held.received, 'the request reached the dispatcher');

    await withTimeout(server.close(20), 'close resolved at its bound');
    await withTimeout(client.closed, 'the connection was cut off');
    expect(client.responses).toEqual([]);
  });
});
