/**
 * RELP framing and the RELP channel's bookkeeping, against a scripted RELP
 * server on a real loopback socket (the wire form and its failures on
 * demand; test/sinks/relp-delivery.test.ts runs against rsyslog itself):
 *
 * - frames read back whatever way the bytes are split; malformed or
 *   oversized ones are refused;
 * - a session the server ends (`serverclose`) after acknowledging part of a
 *   batch fails the batch with exactly that part delivered; the rest (in
 *   doubt) is counted and, sent again, goes in a new session whose txnrs
 *   start again at 1 with `open`;
 * - a `rsp 500` fails the batch at the refused event; a refused `open`
 *   says so;
 * - the queue moves past the acknowledged head of a failed batch and sends
 *   only the rest again.
 */
import net from 'node:net';
import { ManualClock } from '../../common/clock';
import { systemTimers, Timers } from '../../common/timers';
import { DeliveryQueue } from '../../sinks/delivery-queue';
import { RelpChannel, RelpDeliveryError } from '../../sinks/relp-channel';
import { MAX_RESPONSE_BYTES, RelpFrame, RelpFrameReader, relpFrame } from '../../sinks/relp-frames';
import { ManualTimers } from '../support/manual-timers';
import { withTimeout } from '../pki/tls-fixture';
import { ACK_TIMEOUT_MS } from '../../sinks/relp-session';
import { waitFor } from './syslog-listeners';

/** What the scripted server does with each `syslog` command of a session: answer 200, answer 500, or end the session. */
type Script = (sessionIndex: number, syslogIndex: number) => 'ok' | 'refuse' | 'serverclose' | 'silent';

interface ScriptedServer {
  readonly port: number;
  /** Per session: the frames the client sent. */
  readonly sessions: RelpFrame[][];
  close(): Promise<void>;
}

async function scriptedServer(script: Script, open: 'ok' | 'refuse' = 'ok'): Promise<ScriptedServer> {
  const sessions: RelpFrame[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const index = sessions.length;
    const seen: RelpFrame[] = [];
    sessions.push(seen);
    const reader = new RelpFrameReader();
    let syslogs = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        seen.push(frame);
        if (frame.command === 'open') socket.write(relpFrame(frame.txnr, 'rsp', open === 'ok' ? '200 OK\nrelp_version=0\nrelp_software=scripted\ncommands=syslog' : '500 not today'));
        else if (frame.command === 'close') socket.end(relpFrame(frame.txnr, 'rsp', '200 OK'));
        else if (frame.command === 'syslog') {
          const action = script(index, syslogs++);
          if (action === 'ok') socket.write(relpFrame(frame.txnr, 'rsp', '200 OK'));
          else if (action === 'refuse') socket.write(relpFrame(frame.txnr, 'rsp', '500 no room'));
          else if (action === 'serverclose' && !socket.writableEnded) socket.end(relpFrame(0, 'serverclose'));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const messages = (n: number): string[] => Array.from({ length: n }, (_, i) => `<110>1 - h strongroom 1 operation [strongroom@32473 seq="${i + 1}"] m${i + 1}`);
const channelTo = (port: number, timers: Timers = systemTimers): RelpChannel => new RelpChannel({ host: '127.0.0.1', port, tls: null, software: 'strongroom,test' }, timers);
const sent = (frames: RelpFrame[]): string[] => frames.filter((f) => f.command === 'syslog').map((f) => f.data.toString('utf8'));

describe('RELP frames', () => {
  it('reads frames however the bytes are split, with and without data', () => {
    const wire = Buffer.concat([relpFrame(1, 'rsp', '200 OK\nrelp_version=0'), relpFrame(0, 'serverclose'), relpFrame(2, 'rsp', 'x'.repeat(300))]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const reader = new RelpFrameReader();
      const frames = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
      expect(frames.map((f) => [f.txnr, f.command, f.data.length])).toEqual([
        [1, 'rsp', 21],
        [0, 'serverclose', 0],
        [2, 'rsp', 300],
      ]);
    }
    expect(relpFrame(7, 'close').toString()).toBe('7 close 0\n');
  });

  it('refuses malformed and oversized frames', () => {
    for (const bad of ['x rsp 2 OK\n', '1 rsp 2 OKX', '1 r$p 0\n', '1 rsp 0X', '1234567890 rsp 0\n', `1 rsp ${MAX_RESPONSE_BYTES + 1} `]) {
      expect(() => new RelpFrameReader().push(Buffer.from(bad))).toThrow(expect.objectContaining({ code: 'RELP_PROTOCOL' }));
    }
  });
});

describe('RELP channel', () => {
  let server: ScriptedServer | null = null;
  let channel: RelpChannel | null = null;
  afterEach(async () => {
    channel?.close();
    await server?.close();
    server = null;
  });

  it('after a serverclose, counts the acknowledged head delivered and resends only the rest, in a new session from txnr 1', async () => {
    // Session 0 acknowledges three events, then the server leaves; session 1 takes everything.
    server = await scriptedServer((session, i) => (session === 0 && i >= 3 ? 'serverclose' : 'ok'));
    channel = channelTo(server.port);
    const batch = messages(5);
    const failure = await withTimeout(channel.send(batch).then(() => null, (err: unknown) => err), 'the first send');
    expect(failure).toBeInstanceOf(RelpDeliveryError);
    const delivered = (failure as RelpDeliveryError).delivered;
    expect(delivered).toBe(3);
    // All five went out at once (the window is 128): two were never acknowledged.
    expect(channel.inDoubt).toBe(2);
    await withTimeout(channel.send(batch.slice(delivered)), 'the resend');
    expect(server.sessions).toHaveLength(2);
    expect(sent(server.sessions[1])).toEqual(batch.slice(3));
    // A new session numbers from 1: open, then the syslog commands.
    expect(server.sessions[1].map((f) => [f.txnr, f.command])).toEqual([
      [1, 'open'],
      [2, 'syslog'],
      [3, 'syslog'],
    ]);
    expect(server.sessions[0][0].data.toString()).toContain('relp_version=0');
    expect(server.sessions[0][0].data.toString()).toContain('commands=syslog');
  });

  it('fails a batch at an event the SIEM refuses (rsp 500), with the head before it delivered', async () => {
    server = await scriptedServer((_session, i) => (i === 2 ? 'refuse' : 'ok'));
    channel = channelTo(server.port);
    const failure = (await withTimeout(channel.send(messages(4)).then(() => null, (err: unknown) => err), 'the send')) as RelpDeliveryError;
    expect(failure.delivered).toBe(2);
    expect(failure.message).toContain('RELP 500 no room');
  });

  it('breaks a session the SIEM stops answering after ACK_TIMEOUT_MS (a stuck SIEM), with the answered head delivered', async () => {
    server = await scriptedServer((_session, i) => (i < 1 ? 'ok' : 'silent'));
    const timers = new ManualTimers(new ManualClock(0));
    channel = channelTo(server.port, timers);
    const outcome = channel.send(messages(3)).then(() => null, (err: unknown) => err);
    const srv = server;
    await waitFor(() => srv.sessions.length === 1 && sent(srv.sessions[0]).length === 3, 'the server to get the three events');
    await waitFor(() => channel?.unacknowledged === 2, 'the first answer');
    await timers.advance(ACK_TIMEOUT_MS - 1);
    expect(channel.unacknowledged).toBe(2);
    await timers.advance(1);
    const failure = (await withTimeout(outcome, 'the send')) as RelpDeliveryError;
    expect(failure.delivered).toBe(1);
    expect(failure.message).toContain(`answered no RELP command for ${ACK_TIMEOUT_MS} ms`);
    expect(channel.inDoubt).toBe(2);
  });

  it('says when the SIEM refuses the session', async () => {
    server = await scriptedServer(() => 'ok', 'refuse');
    channel = channelTo(server.port);
    const failure = (await withTimeout(channel.send(messages(1)).then(() => null, (err: unknown) => err), 'the send')) as RelpDeliveryError;
    expect(failure.delivered).toBe(0);
    expect(failure.message).toContain('refused the RELP session: 500 not today');
  });
});

describe('delivery queue with an acknowledging transport', () => {
  it('moves past the acknowledged head of a failed batch and sends only the rest again', async () => {
    const clock = new ManualClock(0);
    const timers = new ManualTimers(clock);
    const attempts: number[][] = [];
    const delivered: number[][] = [];
    const queue = new DeliveryQueue<number>({
      capacity: 100,
      ratePerSecond: null,
      retryMaxMs: 1000,
      clock,
      timers,
      send: async (batch) => {
        attempts.push([...batch]);
        if (attempts.length === 1) throw new RelpDeliveryError(2, new Error('the SIEM closed the RELP session (serverclose)'));
      },
      onDelivered: (batch) => delivered.push([...batch]),
    });
    for (let i = 1; i <= 5; i++) queue.push(i);
    await timers.advance(0);
    expect(delivered).toEqual([[1, 2]]);
    await timers.advance(1000);
    expect(attempts).toEqual([
      [1, 2, 3, 4, 5],
      [3, 4, 5],
    ]);
    expect(delivered).toEqual([[1, 2], [3, 4, 5]]);
    expect(queue.stats()).toMatchObject({ delivered: 5, queued: 0, retries: 1 });
  });
});
