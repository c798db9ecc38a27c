/**
 * Runs the OASIS cases against an appliance's KMIP port over mutual TLS,
 * one connection per case, one case after the other (cases create objects
 * by name, and a Locate in one must not see another's half-made state).
 */
import { KmipCredentials, KmipTlsClient } from '../kmip-tls-client';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { OasisCase } from './oasis-cases';
import { CaseOutcome, KmipExchange, playCase, PlayOptions } from './oasis-play';

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

export async function runConformance(cases: readonly OasisCase[], connect: () => Promise<KmipExchange>, options: Omit<PlayOptions, 'bindings'> = {}): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const testCase of cases) outcomes.push(await playCase(testCase, connect, options));
  return outcomes;
}
