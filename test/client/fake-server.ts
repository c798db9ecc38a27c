/**
 * A small fake Strongroom server for client tests: real TLS (mutual, from the
 * test PKI) and the real codec (FrameDecoder, decodeRequest, encodeResult,
 * encodeError), but only Query, Get (from `keys`) and Encrypt ("enc:" +
 * plaintext). Tests steer it: hold responses and release them in reverse
 * order, force an error code per op, refuse connections with an id-null
 * error, deny a key, corrupt a response, drop every connection, stop
 * listening and start again on the same port.
 */
import { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { ErrorCode } from '../../common/error-codes';
import { asStrongroomError, StrongroomError } from '../../common/errors';
import { encodeFrame, FrameDecoder } from '../../protocol/frame-codec';
import { DEFAULT_JSON_LIMITS } from '../../protocol/json-limits';
import { decodeRequest, DecodedRequest, requestIdOf } from '../../protocol/request';
import { encodeError, encodeResult } from '../../protocol/response';
import { TestPki } from './pki-fixture';

export interface FakeKey {
  readonly instance: string;
  readonly material: Buffer;
}

export interface SeenRequest {
  readonly connection: number;
  readonly id: string | number;
  readonly op: string;
}

interface Holding {
  readonly count: number;
  readonly held: Array<{ socket: tls.TLSSocket; frame: Buffer }>;
  readonly full: () => void;
}

export class FakeServer {
  /** Keys Get answers, by full name. */
  readonly keys = new Map<string, FakeKey>();
  /** Names Get refuses with PERMISSION_DENIED. */
  readonly denied = new Set<string>();
  /** Ops answered with this error code instead. */
  readonly errors = new Map<string, ErrorCode>();
  readonly seen: SeenRequest[] = [];
  secureConnections = 0;
  /** When set, each new connection gets a connection-level error (id null) with this code and is closed. */
  refuseWith: ErrorCode | null = null;
  private server: tls.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private holding: Holding | null = null;
  private corruptNext = false;
  port = 0;

  private constructor(private readonly pki: TestPki) {}

  static async start(pki: TestPki, port = 0): Promise<FakeServer> {
    const fake = new FakeServer(pki);
    await fake.listen(port);
    return fake;
  }

  /** Resolves once the next `count` responses are held back (not sent). */
  holdResponses(count: number): Promise<void> {
    return new Promise((full) => (this.holding = { count, held: [], full }));
  }

  /** Sends the held responses, last first by default. */
  releaseHeld(order: 'reverse' | 'forward' = 'reverse'): void {
    const held = this.holding?.held ?? [];
    this.holding = null;
    for (const { socket, frame } of order === 'reverse' ? held.reverse() : held) if (!socket.destroyed) socket.write(frame);
  }

  /** The next response is replaced by a frame that is not JSON. */
  corruptNextResponse(): void {
    this.corruptNext = true;
  }

  /** Destroys every open connection; keeps listening. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Stops listening and drops every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.dropConnections();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  restart(): Promise<void> {
    return this.listen(this.port);
  }

  private listen(port: number): Promise<void> {
    const server = tls.createServer({
      key: this.pki.server.key,
      cert: this.pki.server.cert,
      ca: this.pki.ca.certificatePem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('tlsClientError', () => undefined);
    server.on('secureConnection', (socket) => this.serve(socket, ++this.secureConnections));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private serve(socket: tls.TLSSocket, connection: number): void {
    const decoder = new FrameDecoder();
    socket.on('error', () => undefined);
    if (this.refuseWith !== null) {
      socket.end(encodeError(null, new StrongroomError(this.refuseWith, 'refused')));
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      let payloads: Buffer[];
      try {
        payloads = decoder.push(chunk);
      } catch (err) {
        socket.end(encodeError(null, asStrongroomError(err)));
        return;
      }
      for (const payload of payloads) this.respond(socket, this.answer(payload, connection));
    });
  }

  private respond(socket: tls.TLSSocket, frame: Buffer): void {
    if (this.corruptNext) {
      this.corruptNext = false;
      frame = encodeFrame(Buffer.from('this is not json'));
    }
    const holding = this.holding;
    if (holding !== null && holding.held.length < holding.count) {
      holding.held.push({ socket, frame });
      if (holding.held.length === holding.count) holding.full();
      return;
    }
    socket.write(frame);
  }

  private answer(payload: Buffer, connection: number): Buffer {
    let request: DecodedRequest;
    try {
      request = decodeRequest(payload, DEFAULT_JSON_LIMITS);
    } catch (err) {
      return encodeError(requestIdOf(err), asStrongroomError(err));
    }
    this.seen.push({ connection, id: request.id, op: request.op });
    try {
      return encodeResult(request.id, this.result(request));
    } catch (err) {
      return encodeError(request.id, asStrongroomError(err));
    }
  }

  private result(request: DecodedRequest): unknown {
    const forced = this.errors.get(request.op);
    if (forced !== undefined) throw new StrongroomError(forced, `forced ${forced}`, { details: { op: request.op } });
    switch (request.op) {
      case 'Query':
        return { server: 'fake', version: '0.0.0', protocol: 1, operations: ['Query', 'Get', 'Encrypt'], limits: {}, identity: { name: 'billing-app', role: 'app', groups: [] } };
      case 'Get':
        return this.get(request.args.name, request.args.instance);
      case 'Encrypt':
        return { ciphertext: Buffer.concat([Buffer.from('enc:'), request.args.plaintext]), instance: `${request.args.name}#1`, key: request.args.name };
      default:
        throw new StrongroomError('UNKNOWN_OPERATION', 'the fake server does not do that');
    }
  }

  private get(name: string | undefined, instance: string | undefined): unknown {
    const entry = [...this.keys].find(([full, key]) => (name === undefined || full === name) && (instance === undefined || key.instance === instance));
    if (entry === undefined || (name !== undefined && this.denied.has(name))) throw new StrongroomError('PERMISSION_DENIED', 'no grant');
    const [fullName, key] = entry;
    return {
      key: { fullName, currentInstance: key.instance },
      instance: { name: key.instance, version: 1, state: 'Active', current: true, hasMaterial: true },
      material: Buffer.from(key.material),
    };
  }
}
