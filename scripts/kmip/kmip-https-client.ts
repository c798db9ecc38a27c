/**
 * A minimal client of KMIP over HTTPS (docs/kmip.md §4.1), for the tests and
 * the OASIS conformance runner: one mutual-TLS connection kept alive, each
 * request message POSTed to /kmip in the chosen encoding (TTLV, JSON, XML)
 * and its answer read back as a TTLV tree. `post` sends any bytes with any
 * method, path and content type, to see refusals. Not a product client: it
 * sends one request at a time and bounds every wait.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { IncomingHttpHeaders } from 'node:http';
import { decodeKmipBody, encodeKmipBody, KMIP_CONTENT_TYPES, KMIP_HTTP_PATH, KmipHttpEncoding } from '../../protocol/kmip/kmip-http';
import { TtlvNode } from '../../protocol/kmip/ttlv';
import { KMIP_CLIENT_WAIT_MS, KmipCredentials } from './kmip-tls-client';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The TLS socket's local port: the same across answers when the connection was kept alive. */
  readonly localPort: number | undefined;
}

export interface PostOptions {
  readonly method?: string;
  readonly path?: string;
  /** undefined: the encoding's; null: no Content-Type header. */
  readonly contentType?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

export class KmipHttpsClient {
  private readonly agent: Agent;

  constructor(private readonly port: number, private readonly credentials: KmipCredentials | null, private readonly options: { host?: string; caPem?: string } = {}) {
    // One socket, kept alive: consecutive requests share a connection as a KMIP client's would.
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Sends `message` in `encoding` and reads the answer in the same one; throws on an HTTP status other than 200. */
  async exchange(message: TtlvNode, encoding: KmipHttpEncoding): Promise<TtlvNode> {
    const answer = await this.post(encodeKmipBody(encoding, message), encoding);
    if (answer.status !== 200) throw new Error(`KMIP over HTTPS answered ${answer.status}: ${answer.body.toString('utf8').trim()}`);
    if (answer.headers['content-type'] !== KMIP_CONTENT_TYPES[encoding]) throw new Error(`KMIP over HTTPS answered Content-Type ${answer.headers['content-type']}, not ${KMIP_CONTENT_TYPES[encoding]}`);
    return decodeKmipBody(encoding, answer.body);
  }

  post(body: Buffer, encoding: KmipHttpEncoding, options: PostOptions = {}): Promise<HttpAnswer> {
    const contentType = options.contentType === undefined ? KMIP_CONTENT_TYPES[encoding] : options.contentType;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: this.options.host ?? '127.0.0.1',
          port: this.port,
          method: options.method ?? 'POST',
          path: options.path ?? KMIP_HTTP_PATH,
          agent: this.agent,
          ca: this.options.caPem ?? this.credentials?.caPem,
          cert: this.credentials?.certificatePem,
          key: this.credentials?.privateKeyPem,
          servername: 'localhost',
          headers: { ...(contentType === null ? {} : { 'Content-Type': contentType }), 'Content-Length': String(body.length), ...options.headers },
          timeout: KMIP_CLIENT_WAIT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: res.socket?.localPort }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('KMIP over HTTPS: no answer in time')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
