/**
 * Runs the OASIS cases against an appliance over mutual TLS, one connection
 * per case, one case after the other (cases create objects by name, and a
 * Locate in one must not see another's half-made state). A case goes to the
 * KMIP port in TTLV, but the MSGENC-HTTPS, -JSON and -XML cases go to KMIP
 * over HTTPS (kmip_https_port) in their encoding (HTTPS_PROFILES), so those
 * encodings are served by the appliance, not merely written by the codec;
 * `allOverHttps` sends every case over HTTPS in one encoding.
 */
import { KmipHttpEncoding } from '../../../protocol/kmip/kmip-http';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { KmipHttpsClient } from '../kmip-https-client';
import { KmipCredentials, KmipTlsClient } from '../kmip-tls-client';
import { OasisCase } from './oasis-cases';
import { CaseConnector, CaseOutcome, KmipExchange, playCase, PlayOptions } from './oasis-play';
import { HTTPS_PROFILES } from './oasis-profiles';

/** Connections to the KMIP port at `port`, as the holder of `credentials`. */
export function tlsExchange(port: number, credentials: KmipCredentials, host?: string): () => Promise<KmipExchange> {
  return async () => {
    const client = await KmipTlsClient.open(port, credentials, { host });
    return {
      async exchange(request) {
        client.sendBytes(encodeTtlv(request));
        return client.nextTree();
      },
      close: () => client.destroy(),
    };
  };
}

/** Connections to KMIP over HTTPS at `port`: each request POSTed in `encoding`, on one kept-alive connection. */
export function httpsExchange(port: number, credentials: KmipCredentials, encoding: KmipHttpEncoding, host?: string): () => Promise<KmipExchange> {
  return async () => {
    const client = new KmipHttpsClient(port, credentials, { host });
    return { exchange: (request) => client.exchange(request, encoding), close: () => client.close() };
  };
}

export interface AppliancePorts {
  /** The KMIP (TTLV) port. */
  readonly port: number;
  /** KMIP over HTTPS; null: the appliance serves none (the MSGENC cases then fail to connect). */
  readonly httpsPort: number | null;
  readonly credentials: KmipCredentials;
  readonly host?: string;
  /** Every case over HTTPS in this encoding, instead of TTLV on the KMIP port. */
  readonly allOverHttps?: KmipHttpEncoding;
}

/** The connection each case is played on: HTTPS in its encoding for the MSGENC profiles (or all), else TTLV on the KMIP port. */
export function caseConnector(ports: AppliancePorts): CaseConnector {
  const ttlv = tlsExchange(ports.port, ports.credentials, ports.host);
  return async (testCase: OasisCase) => {
    const encoding = ports.allOverHttps ?? HTTPS_PROFILES[testCase.profile];
    if (encoding === undefined) return ttlv();
    if (ports.httpsPort === null) throw new Error(`${testCase.profile} is played over KMIP over HTTPS, and no HTTPS port was given`);
    return httpsExchange(ports.httpsPort, ports.credentials, encoding, ports.host)();
  };
}

export async function runConformance(cases: readonly OasisCase[], connect: CaseConnector, options: Omit<PlayOptions, 'bindings'> = {}): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  // One server for the whole run: an object one case generated may be found by a later one, and its bytes are random there too.
  const generated = new Set<string>();
  for (const testCase of cases) outcomes.push(await playCase(testCase, connect, { ...options, generated }));
  return outcomes;
}
