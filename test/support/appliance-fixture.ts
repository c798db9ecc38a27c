/**
 * A whole appliance for socket tests, on real parts: a SoftHSM2 token, a
 * SQLite keychain in a temp folder, the appliance PKI, and the native
 * protocol server on 127.0.0.1 (a free port). `issue()` makes client
 * certificates; `connect()` opens a raw mTLS connection that speaks frames,
 * for tests that must send hostile bytes.
 *
 * The PKI is made with a clock ten days in the past, so that tests can issue
 * certificates that have already expired.
 *
 * Dual control is on at its default quorum (2): besides `officer` the
 * fixture issues two more officers, `approvers`, and `approve()` has them
 * approve a request an APPROVAL_REQUIRED response names, so that tests of
 * other features can still destroy, revoke and grant material, the way an
 * operator would.
 *
 * With `options.shares` the keychain is share-bound, as `init --shares N
 * --threshold M` makes it: `shares` holds the custodians' shares (commitments
 * stored), and every start after the first comes up sealed, waiting for them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { Clock, ManualClock, systemClock } from '../../common/clock';
import { loadConfig } from '../../common/config';
import { Timers } from '../../common/timers';
import { Logger } from '../../common/logger';
import { IdSource, randomIds } from '../../domain/ids';
import { initializeKeychain } from '../../domain/keychain-key';
import { registerFirstNode } from '../../server/cluster/cluster-join';
import { makeShareSet } from '../../domain/unseal/split-secret';
import { storeShareCommitments } from '../../domain/unseal/share-commitments';
import { startApplianceServer, RunningServer } from '../../server/compose/appliance-server';
import { bootstrapPki } from '../../domain/pki/bootstrap-pki';
import { Appliance, openAppliance } from '../../server/compose/open-appliance';
import { generateClientKeyPair } from '../../client/credentials';
import { PkiService } from '../../domain/pki/pki-service';
import { encodeFrame, FrameDecoder } from '../../protocol/frame-codec';
import { decodeResponse, DecodedResponse } from '../../protocol/response';
import { ClientRole } from '../../domain/vocabulary/client-roles';
import { makeSoftHsmFixture, SoftHsmFixture, useSoftHsmConf } from './softhsm-fixture';

const DAY_MS = 86_400_000;
/** Every wait in these helpers gives up after this long, so no test hangs. */
export const SOCKET_WAIT_MS = 10_000;
/**
 * The product's 3 s handshake bound, raised for tests that do not set their
 * own: on a loaded 2-core CI machine the server side of a TLS 1.3 handshake
 * (client certificate checked) overran it, and the client, already
 * connected on its side, saw its first request end with "connection closed
 * before a response" (kmip-kept-objects, once). A bound, not a timing.
 */
export const TEST_LISTENER_BOUNDS = { handshake_timeout_ms: '30000' };

export interface Credentials {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
}

export interface TestAppliance {
  readonly port: number;
  readonly dataDir: string;
  readonly appliance: Appliance;
  readonly server: RunningServer;
  /** Stops the server, closes the keychain and the HSM session, then opens the same data folder again and serves it (a new port), with `settings` changed as an operator edits appliance.conf between two starts. */
  restart(settings?: Record<string, string>): Promise<void>;
  readonly officer: Credentials;
  /** The custodians' shares of a share-bound keychain (options.shares); empty without. */
  readonly shares: readonly string[];
  /** Two more officers (approver-1, approver-2) who approve `officer`'s requests. */
  readonly approvers: readonly Credentials[];
  /**
   * Takes a response that must be APPROVAL_REQUIRED and has the approvers
   * approve it (as many as its quorum needs); returns the request as it then
   * stands (its `result`, or its `error` if the operation failed).
   */
  approve(response: DecodedResponse): Promise<ApprovedRequest>;
  issue(name: string, role: ClientRole, options?: { groups?: string[]; validityDays?: number; issuedDaysAgo?: number }): Credentials;
  connect(credentials: Credentials | null, options?: { ca?: string }): Promise<RawConnection>;
  stop(): Promise<void>;
}

export interface ApprovedRequest {
  readonly id: string;
  readonly state: string;
  readonly result: unknown;
  readonly error: { code: string; message: string } | null;
}

/** The SoftHSM2 token an appliance uses: its label in the folder of `softhsmConf`, opened with `userPin`. */
export type TestToken = Pick<SoftHsmFixture, 'modulePath' | 'label' | 'softhsmConf' | 'userPin' | 'cleanup'>;

/**
 * `clock`, `timers` and `ids` replace the system's for the appliance (the PKI
 * and certificates keep real time). With manual timers nothing periodic runs
 * (rollover sweeps, checkpoints, the change watcher) and no deadline passes
 * until the test advances them. `log` receives the server's operational log.
 */
export async function startTestAppliance(settings: Record<string, string> = {}, options: { clock?: Clock; timers?: Timers; ids?: IdSource; log?: Logger; shares?: { shares: number; threshold: number }; token?: TestToken } = {}): Promise<TestAppliance> {
  // A token the test made (one of several sharing a master key) is the test's to remove; otherwise one of its own.
  const token: TestToken = options.token ?? (await makeSoftHsmFixture(`sr-srv-${randomBytes(3).toString('hex')}`));
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-server-'));
  writeFileSync(join(dataDir, 'hsm-user-pin'), token.userPin, { mode: 0o600 });
  useSoftHsmConf(token.softhsmConf);
  let config = loadConfig({
    dataDir,
    env: {},
    flags: { hsm_module: token.modulePath, hsm_token_label: token.label, softhsm2_conf: token.softhsmConf, listen_port: '0', ...TEST_LISTENER_BOUNDS, ...settings },
  });
  let appliance = openAppliance(config, { create: true, ids: options.ids });
  const hsm = await appliance.hsm();
  let shares: readonly string[] = [];
  let secret: Uint8Array | undefined;
  if (options.shares) {
    const set = await makeShareSet(options.shares.shares, options.shares.threshold);
    shares = set.shares;
    secret = set.secret;
  }
  try {
    await initializeKeychain(appliance.store, hsm, systemClock, options.ids ?? randomIds, secret && options.shares ? { secret, ...options.shares } : undefined, { masterKeyCheck: appliance.storage === 'postgres' });
    // As `strongroom init` does: the key that signs audit checkpoints.
    await hsm.ensureSigningKey();
    if (secret) {
      await storeShareCommitments(appliance.store, hsm, systemClock, shares);
      await appliance.keychain.unseal(hsm, secret);
    } else {
      await appliance.unseal();
    }
    // As `strongroom init` does on PostgreSQL: the first node's signing key heads the cluster's signer list.
    await registerFirstNode(appliance, { node: 'node-a', operator: { name: 'local:test', subject: 'uid=0' }, clock: systemClock });
  } finally {
    secret?.fill(0);
  }
  const pastClock = new ManualClock(Date.now() - 10 * DAY_MS);
  bootstrapPki(appliance, pastClock, generateClientKeyPair());
  let server = await startApplianceServer(appliance, { port: 0, clock: options.clock, timers: options.timers, log: options.log });
  const caPem = new PkiService(appliance.keychain, appliance.keychain.directory, systemClock).caCertificate();

  const issue: TestAppliance['issue'] = (name, role, options = {}) => {
    const clock = new ManualClock(Date.now() - (options.issuedDaysAgo ?? 0) * DAY_MS);
    const pair = generateClientKeyPair();
    const issued = new PkiService(appliance.keychain, appliance.keychain.directory, clock).issueClient({
      name,
      role,
      groups: options.groups ?? [],
      publicKeyPem: pair.publicKeyPem,
      validityDays: options.validityDays,
    });
    return { certificatePem: issued.certificatePem, privateKeyPem: pair.privateKeyPem, caPem };
  };
  const officer = issue('test-officer', 'officer');
  const approvers = [issue('approver-1', 'officer'), issue('approver-2', 'officer')];
  const open: RawConnection[] = [];

  const approve: TestAppliance['approve'] = async (response) => {
    if (response.error?.code !== 'APPROVAL_REQUIRED') throw new Error(`expected APPROVAL_REQUIRED, got ${JSON.stringify(response.error ?? response.result)}`);
    const { requestId, digest } = response.error.details as { requestId: string; digest: string };
    let request: ApprovedRequest | null = null;
    for (const approver of approvers) {
      const connection = await RawConnection.open(server.port, approver, caPem);
      try {
        const answer = await connection.request('ApprovalApprove', { id: requestId, digest });
        if (answer.error) throw new Error(`approval refused: ${answer.error.code} ${answer.error.message}`);
        request = (answer.result as { request: ApprovedRequest }).request;
      } finally {
        connection.destroy();
      }
      if (request.state !== 'pending') return request;
    }
    throw new Error(`request ${requestId} still pending after ${approvers.length} approvals`);
  };

  return {
    get port() {
      return server.port;
    },
    dataDir,
    get appliance() {
      return appliance;
    },
    get server() {
      return server;
    },
    async restart(changed = {}) {
      for (const connection of open) connection.destroy();
      await server.close();
      await appliance.close();
      config = loadConfig({ dataDir, env: {}, flags: { hsm_module: token.modulePath, hsm_token_label: token.label, softhsm2_conf: token.softhsmConf, listen_port: '0', ...TEST_LISTENER_BOUNDS, ...settings, ...changed } });
      appliance = openAppliance(config, { ids: options.ids });
      server = await startApplianceServer(appliance, { port: 0, clock: options.clock, timers: options.timers, log: options.log });
    },
    officer,
    shares,
    approvers,
    approve,
    issue,
    async connect(credentials, options = {}) {
      const connection = await RawConnection.open(server.port, credentials, options.ca ?? caPem);
      open.push(connection);
      return connection;
    },
    async stop() {
      for (const connection of open) connection.destroy();
      const t0 = Date.now();
      await server.close();
      if (process.env.SR_DEBUG_STOP) console.log('server closed', Date.now() - t0);
      await appliance.close();
      if (process.env.SR_DEBUG_STOP) console.log('appliance closed', Date.now() - t0);
      if (options.token === undefined) await token.cleanup();
      if (process.env.SR_DEBUG_STOP) console.log('token cleaned', Date.now() - t0);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw mTLS connection that sends frames or bytes and reads response frames in order. */
/** The result of `op` on `conn`; an error answer throws, naming its code and message. */
export async function resultOf<R>(conn: RawConnection, op: string, args: Record<string, unknown> = {}): Promise<R> {
  const res = await conn.request(op, args);
  if (res.error) throw new Error(`${op}: ${res.error.code} ${res.error.message}`);
  return res.result as R;
}

export class RawConnection {
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024);
  private readonly responses: DecodedResponse[] = [];
  private waiters: Array<() => void> = [];
  private nextId = 1;
  closed = false;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.responses.push(decodeResponse(frame));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, credentials: Credentials | null, caPem: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: caPem,
        cert: credentials?.certificatePem,
        key: credentials?.privateKeyPem,
        servername: 'localhost',
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('TLS connect timed out'));
      }, SOCKET_WAIT_MS);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(new RawConnection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(message: unknown): void {
    this.sendBytes(encodeFrame(Buffer.from(JSON.stringify(message))));
  }

  /** Sends one request and waits for the next response. */
  async request(op: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>): Promise<DecodedResponse> {
    const id = this.nextId++;
    this.send(meta ? { id, op, args, meta } : { id, op, args });
    return this.next();
  }

  /** The next response in order, or null when the server closed the connection first. */
  async next(): Promise<DecodedResponse> {
    const deadline = Date.now() + SOCKET_WAIT_MS;
    while (this.responses.length === 0) {
      if (this.closed) throw new Error('connection closed before a response');
      if (Date.now() > deadline) throw new Error('no response in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.responses.shift() as DecodedResponse;
  }

  /** Resolves once the server has closed the connection (or rejects after the wait bound). */
  async waitClosed(): Promise<void> {
    const deadline = Date.now() + SOCKET_WAIT_MS;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
