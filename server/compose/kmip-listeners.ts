/**
 * The two KMIP listeners (docs/kmip.md §4): TTLV on kmip_port and the HTTPS
 * binding (TTLV, JSON, XML) on kmip_https_port. Each is the key server's
 * mutual-TLS listener with a KMIP wire, so both share its certificate checks,
 * client records, connection caps, refusal audit and revocation; they share
 * one rate limiter and one set of KMIP operations. Each registers with
 * ClientConnections (a revocation closes its connections too) and shows its
 * open connections in the metrics.
 */
import { ApplianceConfig, numberSetting } from '../../common/config';
import { kmipOperations } from '../../protocol/kmip/operations/kmip-operations';
import { KmipWireOptions, kmipWire } from '../kmip/kmip-wire';
import { kmipHttpsWire } from '../kmip/kmip-https-wire';
import { ApplianceMetrics } from '../metrics/appliance-metrics';
import { KeyServer, KeyServerOptions, Wire } from '../tls/key-server';
import { ClientConnections } from './client-connections';

export interface KmipPorts {
  /** TTLV's port (0: a free one), or null when kmip_port is off. */
  readonly ttlv: number | null;
  /** The HTTPS binding's port, or null when kmip_https_port is off. */
  readonly https: number | null;
}

/** What both listeners take from the key server's settings (all but the port, the key and the wire). */
export type KmipListenerCommon = Omit<KeyServerOptions, 'port' | 'privateKeyPem' | 'wire'> & Omit<KmipWireOptions, 'operations' | 'newId'>;

export interface KmipListeners {
  readonly ttlv: KeyServer | null;
  readonly ttlvPort: number | null;
  readonly https: KeyServer | null;
  readonly httpsPort: number | null;
  /** Graceful, as KeyServer.close; both, then unregistered. */
  close(): Promise<void>;
}

/** Each listener's port: the one asked for, else its setting (off: null), a free one when the key server's `port` is 0. */
export function kmipPortsOf(config: ApplianceConfig, asked: { readonly kmipPort?: number | null; readonly kmipHttpsPort?: number | null; readonly port?: number }): KmipPorts {
  const portOf = (given: number | null | undefined, key: 'kmip_port' | 'kmip_https_port'): number | null =>
    given !== undefined ? given : config.values[key] === 'off' ? null : asked.port === 0 ? 0 : numberSetting(config, key);
  return { ttlv: portOf(asked.kmipPort, 'kmip_port'), https: portOf(asked.kmipHttpsPort, 'kmip_https_port') };
}

export interface KmipListenerParts {
  readonly ports: KmipPorts;
  /** Each listener's copy of the server key (null for a listener that is off); node:tls zeroes it, and it is zeroed here if unused. */
  readonly keys: { readonly ttlv: Buffer | null; readonly https: Buffer | null };
  readonly common: KmipListenerCommon;
  readonly connections: ClientConnections;
  readonly metrics: ApplianceMetrics;
  readonly newId: () => string;
}

/** Starts the listeners that are on; if one cannot listen, closes what started, zeroes the keys and throws. */
export async function startKmipListeners(parts: KmipListenerParts): Promise<KmipListeners> {
  const { ports, keys, common, connections, metrics } = parts;
  const wireOptions: KmipWireOptions = { ...common, operations: kmipOperations(), newId: parts.newId };
  const started: Array<{ server: KeyServer; port: number; stop: Array<() => void> }> = [];
  const start = async (port: number | null, key: Buffer | null, wire: Wire, listener: string): Promise<{ server: KeyServer; port: number } | null> => {
    if (port === null || key === null) return null;
    const server = new KeyServer({ ...common, port, privateKeyPem: key, wire });
    const listening = { server, port: await server.listen(), stop: [connections.register(server), metrics.watchListener(listener, () => server.connectionCount)] };
    started.push(listening);
    return listening;
  };
  let ttlv: { server: KeyServer; port: number } | null = null;
  let https: { server: KeyServer; port: number } | null = null;
  const close = async (): Promise<void> => {
    for (const { server, stop } of started.reverse()) {
      await server.close();
      for (const undo of stop) undo();
    }
  };
  try {
    ttlv = await start(ports.ttlv, keys.ttlv, kmipWire(wireOptions), 'kmip');
    https = await start(ports.https, keys.https, kmipHttpsWire(wireOptions), 'kmip-https');
  } catch (err) {
    keys.ttlv?.fill(0);
    keys.https?.fill(0);
    await close();
    throw err;
  }
  return { ttlv: ttlv?.server ?? null, ttlvPort: ttlv?.port ?? null, https: https?.server ?? null, httpsPort: https?.port ?? null, close };
}
