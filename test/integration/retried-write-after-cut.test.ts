/**
 * A write whose answer is lost after it committed (issue 17), over real
 * mutual TLS to a real appliance (SoftHSM2, SQLite): the client reaches the
 * appliance first through a TCP relay that drops the connection at the
 * first byte the appliance sends once the key exists, i.e. after the
 * Create committed and before its answer arrives; the second address of
 * `servers` is the appliance itself. With retryWrites the client sends the
 * Create once more with the same idempotency key and gets the first run's
 * answer from the appliance's record: one key, one Create run, and a
 * replay event. Without it, UNAVAILABLE as before, and the caller may
 * resend with its own key by hand.
 *
 * The cut is decided by state, not time: the appliance commits before it
 * writes the answer, so the first bytes it sends after the key exists are
 * the answer (the handshake and session tickets went before the request).
 */
import { createConnection, createServer, Server, Socket } from 'node:net';
import { AuditEvent } from '../../domain/audit/audit-event';
import { StrongroomClient } from '../../client';
import { StrongroomClientOptions } from '../../client/options';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

interface CuttingRelay {
  readonly port: number;
  /** Connections it cut (after arming, once). */
  cuts: number;
  /** Cut the next connection whose appliance side sends a byte once `when()` holds; once. */
  arm(when: () => boolean): void;
  close(): Promise<void>;
}

async function cuttingRelay(targetPort: number): Promise<CuttingRelay> {
  let armed: (() => boolean) | null = null;
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.on('data', (chunk) => outbound.write(chunk));
    outbound.on('data', (chunk) => {
      if (armed !== null && armed()) {
        armed = null;
        relay.cuts += 1;
        inbound.destroy();
        outbound.destroy();
        return;
      }
      inbound.write(chunk);
    });
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay: CuttingRelay = {
    port: (server.address() as { port: number }).port,
    cuts: 0,
    arm: (when) => {
      armed = when;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}

describe('a Create whose answer is lost after it committed', () => {
  let app: TestAppliance;
  let relay: CuttingRelay;
  const clients: StrongroomClient[] = [];

  beforeAll(async () => {
    app = await startTestAppliance();
    relay = await cuttingRelay(app.port);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await relay?.close();
    await app?.stop();
  });

  /** First address the relay, second the appliance itself; one connection at a time, so the first request takes the relay. */
  const client = (options: Partial<StrongroomClientOptions> = {}): StrongroomClient => {
    const made = new StrongroomClient({
      servers: [
        { host: '127.0.0.1', port: relay.port, servername: 'localhost' },
        { host: '127.0.0.1', port: app.port, servername: 'localhost' },
      ],
      ca: app.officer.caPem,
      cert: app.officer.certificatePem,
      key: app.officer.privateKeyPem,
      poolSize: 1,
      ...options,
    } as StrongroomClientOptions);
    clients.push(made);
    return made;
  };
  const exists = (fullName: string) => (): boolean => {
    try {
      app.appliance.keychain.describeKey(fullName);
      return true;
    } catch {
      return false;
    }
  };
  const createEvents = (fullName: string): Array<[string, string | null]> => {
    const audit = app.appliance.store.audit;
    return audit
      .readAuditRecords(1, audit.auditHead()!.seq)
      .map((r) => JSON.parse(r.event) as AuditEvent)
      .filter((e) => e.type === 'operation' && e.operation === 'Create' && e.key === fullName)
      .map((e) => [e.result, e.custom?.idempotentReplay ?? null]);
  };

  it('with retryWrites, the retry to the next server gets the first run\'s answer: one key, one run, one replay event', async () => {
    const c = client({ retryWrites: true });
    relay.arm(exists('retry/alpha'));
    const cutsBefore = relay.cuts;
    const answer = await c.create({ name: 'retry/alpha', description: 'made once' });
    expect(relay.cuts).toBe(cutsBefore + 1);
    const stored = app.appliance.keychain.describeKey('retry/alpha');
    expect(answer.key).toMatchObject({ fullName: 'retry/alpha', id: stored.key.id, currentInstance: stored.key.currentInstance, description: 'made once' });
    expect(stored.instances).toHaveLength(1);
    expect(createEvents('retry/alpha')).toEqual([
      ['ok', null],
      ['ok', 'true'],
    ]);
  });

  it('without retryWrites the write fails UNAVAILABLE though it committed; resent by hand under its own key, it answers from the record', async () => {
    const c = client();
    relay.arm(exists('retry/beta'));
    const lost = await c.create({ name: 'retry/beta' }, undefined, { idempotencyKey: 'retry-beta-0001' }).then(
      () => null,
      (err: { code: string }) => err.code,
    );
    expect(lost).toBe('UNAVAILABLE');
    expect(exists('retry/beta')()).toBe(true);
    const again = await c.create({ name: 'retry/beta' }, undefined, { idempotencyKey: 'retry-beta-0001' });
    expect(again.key.id).toBe(app.appliance.keychain.describeKey('retry/beta').key.id);
    expect(createEvents('retry/beta')).toEqual([
      ['ok', null],
      ['ok', 'true'],
    ]);
  });
});
