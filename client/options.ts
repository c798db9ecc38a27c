/**
 * The client's options, their defaults and limits, and the node:tls options
 * they become (docs/protocol.md §1: TLS 1.2+, mutual authentication against
 * the appliance CA). Certificate checking cannot be turned off: there is no
 * option for it, and rejectUnauthorized is always true.
 */
import { isIP } from 'node:net';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { Clock, systemClock } from '../common/clock';
import { DEFAULT_MAX_FRAME_BYTES, HARD_MAX_FRAME_BYTES } from '../protocol/frame-codec';
import { invalidArgument } from './client-error';

/** Default connections per client: enough to spread pipelined load over server workers. */
export const DEFAULT_POOL_SIZE = 4;
/** Most connections per client: the server limits connections, one client must not take them all. */
export const MAX_POOL_SIZE = 64;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** The server's default maxInFlight (§4): beyond it the server stops reading, so more gains nothing. */
export const DEFAULT_MAX_IN_FLIGHT = 64;
/** Most in-flight requests per connection: bounds the pending table a slow server can make us keep. */
export const MAX_IN_FLIGHT_LIMIT = 1024;
/** Longest timeout accepted: a larger value is almost certainly seconds passed as milliseconds the other way round. */
export const MAX_TIMEOUT_MS = 10 * 60_000;

export interface KeyCacheOptions {
  /** Within this time after a fetch, get() answers from memory without asking the server. */
  readonly leaseMs: number;
  /** Until this time after a fetch, get() serves the cached copy when the server is unreachable. */
  readonly holdMs: number;
}

/**
 * Longest a leased key may be served while the server is unreachable: a key
 * revoked or destroyed during an outage stops being served after this.
 */
export const MAX_HOLD_MS = 24 * 60 * 60 * 1000;

/** One appliance the pool may connect to. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** Name checked against this server's certificate; default: the options' servername, else host when it is a DNS name. */
  readonly servername?: string;
}

/** Most appliance addresses one client takes: a cluster is a handful of nodes, more is a mistake in the list. */
export const MAX_SERVERS = 16;

/** One appliance: host and port. */
export interface OneServer {
  readonly host: string;
  readonly port: number;
  readonly servers?: undefined;
}

/** Several appliances serving the same keychain (docs/protocol.md §4): new connections go round them, skipping those in backoff. */
export interface SeveralServers {
  readonly servers: readonly ServerAddress[];
  readonly host?: undefined;
  readonly port?: undefined;
}

/** Where the client connects (host and port, or servers: the compiler refuses neither and both) and how. */
export type StrongroomClientOptions = (OneServer | SeveralServers) & ClientSettings;

export interface ClientSettings {
  /** The appliance CA (PEM): the only CA trusted for the server certificate. */
  readonly ca: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly pfx?: Buffer;
  readonly passphrase?: string;
  /** Name checked against the server certificate; default: host when it is a DNS name (an IP host is checked against IP SANs). */
  readonly servername?: string;
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly maxInFlightPerConnection?: number;
  /** Largest request frame sent; a bigger request fails locally with FRAME_TOO_LARGE instead of costing the connection. Default: the server default (1 MiB). */
  readonly maxFrameBytes?: number;
  readonly cache?: KeyCacheOptions;
  /**
   * Default false. True: each write the appliance can answer again from a
   * stored result (protocol/idempotency-key.ts: Create, Register, ReKey,
   * Revoke, PolicyGrant, …; not the always dual-controlled Destroy and ClientRevoke) is sent with an idempotency key (a random UUID
   * unless the call gives its own), and a write whose connection died
   * after it was sent (UNAVAILABLE) is sent once more, with the same key,
   * on a new connection (the next address of `servers` in turn): the
   * appliance answers it from its record if the first one committed, and
   * runs it if not. Never more than once, within the request's deadline.
   */
  readonly retryWrites?: boolean;
  readonly clock?: Clock;
}

/** One address with the TLS options a connection to it uses; `where` names it in errors. */
export interface ResolvedServer {
  readonly tls: ConnectionOptions;
  readonly where: string;
}

export interface ResolvedOptions {
  /** At least one; `host`/`port` alone become a list of one. */
  readonly servers: readonly ResolvedServer[];
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxFrameBytes: number;
  readonly cache: KeyCacheOptions | null;
  readonly retryWrites: boolean;
  readonly clock: Clock;
}

function integer(value: number | undefined, fallback: number, min: number, max: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidArgument(`${field} must be an integer from ${min} to ${max}`, field);
  return value;
}

function pem(value: unknown, field: string): void {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) throw invalidArgument(`${field} must be a PEM string or Buffer`, field);
}

function resolveRetryWrites(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidArgument('retryWrites must be true or false', 'retryWrites');
  return value;
}

function resolveCache(cache: KeyCacheOptions | undefined): KeyCacheOptions | null {
  if (cache === undefined) return null;
  const leaseMs = integer(cache.leaseMs, 0, 0, Number.MAX_SAFE_INTEGER, 'cache.leaseMs');
  const holdMs = integer(cache.holdMs, 0, 0, MAX_HOLD_MS, 'cache.holdMs');
  if (holdMs < leaseMs) throw invalidArgument('cache.holdMs must be at least cache.leaseMs', 'cache.holdMs');
  return { leaseMs, holdMs };
}

/** The addresses asked for: `servers`, or `host` and `port` as a list of one; never both. */
function addressesOf(o: StrongroomClientOptions): readonly ServerAddress[] {
  if (o.servers !== undefined) {
    if (o.host !== undefined || o.port !== undefined) throw invalidArgument('give either host and port or servers, not both', 'servers');
    if (!Array.isArray(o.servers) || o.servers.length === 0 || o.servers.length > MAX_SERVERS) {
      throw invalidArgument(`servers must be a list of 1 to ${MAX_SERVERS} addresses`, 'servers');
    }
    return o.servers;
  }
  return [{ host: o.host as string, port: o.port as number }];
}

/** `prefix` is '' for host and port (errors name 'host', 'port' as ever) and 'servers[i].' in a list. */
function serverTls(address: ServerAddress, prefix: string, base: ConnectionOptions, fallbackServername: string | undefined): ResolvedServer {
  if (typeof address !== 'object' || address === null) throw invalidArgument(`${prefix.slice(0, -1)} must be an object with host and port`, prefix.slice(0, -1));
  const { host, port } = address;
  if (typeof host !== 'string' || host.length === 0) throw invalidArgument('host must be a non-empty string', `${prefix}host`);
  integer(port, 0, 1, 65_535, `${prefix}port`);
  if (address.servername !== undefined && (typeof address.servername !== 'string' || address.servername.length === 0)) {
    throw invalidArgument('servername must be a non-empty string', `${prefix}servername`);
  }
  // For an IP host, leave servername unset: Node then sends no SNI and checks the IP against the certificate's IP SANs.
  const servername = address.servername ?? fallbackServername ?? (isIP(host) === 0 ? host : undefined);
  const tls: ConnectionOptions = { ...base, host, port };
  return { tls: servername === undefined ? tls : { ...tls, servername }, where: `${host}:${port}` };
}

function resolveServers(o: StrongroomClientOptions): readonly ResolvedServer[] {
  const base: ConnectionOptions = {
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    pfx: o.pfx,
    passphrase: o.passphrase,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
  };
  if (o.servername !== undefined && (typeof o.servername !== 'string' || o.servername.length === 0)) throw invalidArgument('servername must be a non-empty string', 'servername');
  const prefix = (i: number): string => (o.servers === undefined ? '' : `servers[${i}].`);
  const servers = addressesOf(o).map((address, i) => serverTls(address, prefix(i), base, o.servername));
  pem(o.ca, 'ca');
  if ((o.cert === undefined) !== (o.key === undefined)) throw invalidArgument('cert and key go together', o.cert === undefined ? 'cert' : 'key');
  if (o.cert !== undefined) pem(o.cert, 'cert');
  if (o.key !== undefined) pem(o.key, 'key');
  if (o.pfx !== undefined && !Buffer.isBuffer(o.pfx)) throw invalidArgument('pfx must be a Buffer', 'pfx');
  checkCredentials(base);
  return servers;
}

/**
 * Builds the TLS context once, up front: a key that is not the certificate's,
 * or PEM that is not a certificate, fails here with INVALID_ARGUMENT instead
 * of inside every connection attempt (where tls.connect throws before there
 * is a socket to fail).
 */
function checkCredentials(options: ConnectionOptions): void {
  try {
    createSecureContext({ ca: options.ca, cert: options.cert, key: options.key, pfx: options.pfx, passphrase: options.passphrase });
  } catch (cause) {
    const reason = (cause as { code?: string; message?: string }).code ?? (cause as Error).message;
    const mismatch = /KEY_VALUES_MISMATCH|key values mismatch/i.test(String((cause as Error).message ?? reason));
    throw invalidArgument(
      mismatch ? 'the private key is not the certificate\'s: give the key file issued with this certificate (--key beside --cert)' : `the certificate, key or CA cannot be used (${reason}): check the --cert, --key and --ca files`,
      mismatch ? 'key' : 'cert',
    );
  }
}

/** Validates the options (INVALID_ARGUMENT naming the field) and fills in defaults. */
export function resolveOptions(o: StrongroomClientOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw invalidArgument('options must be an object', 'options');
  return {
    servers: resolveServers(o),
    poolSize: integer(o.poolSize, DEFAULT_POOL_SIZE, 1, MAX_POOL_SIZE, 'poolSize'),
    connectTimeoutMs: integer(o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS, 'connectTimeoutMs'),
    requestTimeoutMs: integer(o.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 1, MAX_TIMEOUT_MS, 'requestTimeoutMs'),
    maxInFlight: integer(o.maxInFlightPerConnection, DEFAULT_MAX_IN_FLIGHT, 1, MAX_IN_FLIGHT_LIMIT, 'maxInFlightPerConnection'),
    maxFrameBytes: integer(o.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1, HARD_MAX_FRAME_BYTES, 'maxFrameBytes'),
    cache: resolveCache(o.cache),
    retryWrites: resolveRetryWrites(o.retryWrites),
    clock: o.clock ?? systemClock,
  };
}
