/**
 * KMIP over HTTPS deadlines on injected time (test/support/manual-timers.ts):
 * a connection with no request, body byte or answer for idle_timeout_ms is
 * closed, and a request pushes the deadline back; a body still incomplete
 * frame_timeout_ms after its headers is cut off, and one completed a
 * millisecond before is answered. Real SoftHSM2, SQLite and mutual TLS;
 * only time is the test's. `Expect: 100-continue` tells the test the server
 * has read a request's headers (Node answers 100 Continue as it does).
 */
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { ManualClock } from '../../../common/clock';
import { encodeKmipBody } from '../../../protocol/kmip/kmip-http';
import { structureItem } from '../../../protocol/kmip/operations/payload';
import { Credentials, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { ManualTimers } from '../../support/manual-timers';
import { requestOf } from './kmip-https-support';

jest.setTimeout(60_000);

const IDLE_TIMEOUT_MS = 60_000;
const FRAME_TIMEOUT_MS = 10_000;
const QUERY = encodeKmipBody('ttlv', requestOf('Query', structureItem('RequestPayload', [])));

/** One raw HTTPS connection: what the server sent so far, and whether it closed. */
class RawConnection {
  private received = '';
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(private readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number, credentials: Credentials): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: credentials.caPem, cert: credentials.certificatePem, key: credentials.privateKeyPem, servername: 'localhost' });
      socket.once('secureConnect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Resolves once the server has sent `text` (counted from what was not yet taken), and takes everything up to it. */
  async until(text: string): Promise<void> {
    while (!this.received.includes(text)) {
      if (this.closed) throw new Error(`closed before "${text}" arrived`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.received = this.received.slice(this.received.indexOf(text) + text.length);
  }

  async whenClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

const head = (length: number, expectContinue = false): string =>
  `POST /kmip HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n${expectContinue ? 'Expect: 100-continue\r\n' : ''}\r\n`;

describe('KMIP over HTTPS on manual time', () => {
  let t: TestAppliance;
  let timers: ManualTimers;
  let client: Credentials;

  beforeAll(async () => {
    timers = new ManualTimers(new ManualClock(Date.now()));
    t = await startTestAppliance({ idle_timeout_ms: String(IDLE_TIMEOUT_MS), frame_timeout_ms: String(FRAME_TIMEOUT_MS) }, { clock: timers.clock, timers });
    client = t.issue('https-timed', 'app');
  });

  afterAll(async () => t?.stop());

  test('idle_timeout_ms without a request closes the connection; a request pushes the deadline back', async () => {
    const quiet = await RawConnection.open(t.server.kmipHttpsPort!, client);
    const busy = await RawConnection.open(t.server.kmipHttpsPort!, client);
    for (const connection of [quiet, busy]) {
      connection.write(Buffer.concat([Buffer.from(head(QUERY.length)), QUERY]));
      await connection.until('HTTP/1.1 200 OK');
    }
    await timers.advance(IDLE_TIMEOUT_MS / 2);
    busy.write(Buffer.concat([Buffer.from(head(QUERY.length)), QUERY]));
    await busy.until('HTTP/1.1 200 OK');
    await timers.advance(IDLE_TIMEOUT_MS / 2);
    await quiet.whenClosed();
    expect(busy.closed).toBe(false);
    await timers.advance(IDLE_TIMEOUT_MS / 2);
    await busy.whenClosed();
  });

  test('a body still incomplete frame_timeout_ms after its headers is cut off; one completed a millisecond before is answered', async () => {
    const connection = await RawConnection.open(t.server.kmipHttpsPort!, client);
    connection.write(head(QUERY.length, true));
    await connection.until('HTTP/1.1 100 Continue');
    connection.write(QUERY.subarray(0, 8));
    await timers.advance(FRAME_TIMEOUT_MS - 1);
    connection.write(QUERY.subarray(8));
    await connection.until('HTTP/1.1 200 OK');

    connection.write(head(QUERY.length, true));
    await connection.until('HTTP/1.1 100 Continue');
    connection.write(QUERY.subarray(0, 8));
    await timers.advance(FRAME_TIMEOUT_MS);
    await connection.whenClosed();
  });
});
