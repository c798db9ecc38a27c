/**
 * A minimal KMIP client over mutual TLS, for the tests, the OASIS
 * conformance runner and the benchmark: it sends Request Messages (typed,
 * or as ready TTLV bytes) and reads Response Messages in order, cut by
 * ttlvMessageLength. Not a product client: it trusts the server it is
 * pointed at to answer in order, and bounds every wait.
 */
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { RequestMessage, ResponseMessage, ProtocolVersion } from '../../protocol/kmip/kmip-message';
import { decodeResponse } from '../../protocol/kmip/kmip-message-decoder';
import { encodeRequest } from '../../protocol/kmip/kmip-message-encoder';
import { decodeTtlv } from '../../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../../protocol/kmip/ttlv-encoder';
import { ttlvMessageLength } from '../../protocol/kmip/ttlv-framing';
import { TTLV_HEADER_BYTES, TtlvNode } from '../../protocol/kmip/ttlv';

export interface KmipCredentials {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly caPem: string;
}

/** How long one answer may take before the client gives up. */
export const KMIP_CLIENT_WAIT_MS = 15_000;

export class KmipTlsClient {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly messages: Buffer[] = [];
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= TTLV_HEADER_BYTES) {
        const length = ttlvMessageLength(this.buffered.subarray(0, TTLV_HEADER_BYTES), 64 * 1024 * 1024);
        if (this.buffered.length < length) break;
        this.messages.push(this.buffered.subarray(0, length));
        this.buffered = this.buffered.subarray(length);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, credentials: KmipCredentials | null, options: { host?: string; caPem?: string } = {}): Promise<KmipTlsClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: options.host ?? '127.0.0.1',
        port,
        ca: options.caPem ?? credentials?.caPem,
        cert: credentials?.certificatePem,
        key: credentials?.privateKeyPem,
        servername: 'localhost',
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('KMIP TLS connect timed out'));
      }, KMIP_CLIENT_WAIT_MS);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new KmipTlsClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next response's bytes, in order; rejects when the server closed first or after KMIP_CLIENT_WAIT_MS. */
  async nextBytes(): Promise<Buffer> {
    const deadline = Date.now() + KMIP_CLIENT_WAIT_MS;
    while (this.messages.length === 0) {
      if (this.closed) throw new Error('the server closed the KMIP connection before answering');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no KMIP answer in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.messages.shift()!;
  }

  async nextTree(): Promise<TtlvNode> {
    return decodeTtlv(await this.nextBytes());
  }

  async next(): Promise<ResponseMessage> {
    return decodeResponse(await this.nextTree());
  }

  /** Sends one Request Message and reads its Response Message. */
  async request(message: RequestMessage): Promise<ResponseMessage> {
    this.sendBytes(encodeTtlv(encodeRequest(message)));
    return this.next();
  }

  /** One operation in a one-item batch at `version`. */
  async call(operation: string, payload: TtlvNode, version: ProtocolVersion = { major: 2, minor: 1 }): Promise<ResponseMessage> {
    return this.request({ header: { protocolVersion: version, batchCount: 1 }, batchItems: [{ operation, requestPayload: payload }] });
  }

  destroy(): void {
    this.socket.destroy();
  }
}
