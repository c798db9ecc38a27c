/**
 * The CLI's connection to a running appliance over mutual TLS: the
 * certificate files of the configuration (--cert, --key, --ca), the
 * address (--server), and the client library's errors turned into the
 * CLI's (same code, flat details), so exit codes apply.
 */
import { readFileSync } from 'node:fs';
import { ApplianceConfig, setting } from '../../common/config';
import { ConfigError, ErrorDetails, StrongroomError } from '../../common/errors';
import { ErrorCode, ERROR_CODES } from '../../common/error-codes';
import { StrongroomClient } from '../../client/strongroom-client';
import { isStrongroomClientError } from '../../client/client-error';
import { Requester } from '../../protocol/requester';

export function readPem(config: ApplianceConfig, key: 'client_cert' | 'client_key' | 'ca_file'): Buffer {
  const path = setting(config, key);
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`cannot read ${key} ${path}: give --cert/--key/--ca or set ${key}`, { cause });
  }
}

export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(.+):(\d{1,5})$/.exec(address.trim());
  if (!match) throw new ConfigError(`server address "${address}" is not host:port`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

/** Client errors become StrongroomErrors with the same code, so the CLI's exit codes apply. */
export async function wire<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asCliError(err);
  }
}

/** The client library's error as the CLI's (its code, flat details), or the error as it is. */
function asCliError(err: unknown): unknown {
  if (!isStrongroomClientError(err)) return err;
  const code = (Object.prototype.hasOwnProperty.call(ERROR_CODES, err.code) ? err.code : 'UNAVAILABLE') as ErrorCode;
  // Flat details pass through (an APPROVAL_REQUIRED's requestId and digest: the CLI prints the next step).
  const details = Object.fromEntries(Object.entries(err.details).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) as ErrorDetails;
  return new StrongroomError(code, err.message, { cause: err, details });
}

/** The CLI's one connection to a running appliance, with the certificate files of the config (--cert, --key, --ca). */
export function cliClient(config: ApplianceConfig, address: string, options: { maxFrameBytes?: number } = {}): StrongroomClient {
  const { host, port } = parseAddress(address);
  try {
    return new StrongroomClient({
      host,
      port,
      ca: readPem(config, 'ca_file'),
      cert: readPem(config, 'client_cert'),
      key: readPem(config, 'client_key'),
      poolSize: 1,
      ...options,
    });
  } catch (err) {
    // A key that is not the certificate's: a usage error naming the flag, not an internal one.
    throw asCliError(err);
  }
}

/** A connection to a running appliance, as a Requester with the CLI's error mapping. */
export function wireRequester(config: ApplianceConfig, address: string, options: { maxFrameBytes?: number } = {}): Requester {
  const client = cliClient(config, address, options);
  return {
    request: (op, args = {}) => wire(() => client.request(op, args)),
    close: () => client.close(),
  };
}
