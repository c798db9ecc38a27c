/**
 * One bounded GET to a Patroni node's REST API (`/primary`, `/health`,
 * `/sync`, …). Patroni answers by status code: `GET /primary` is 200 only on
 * the node that holds the leader key, 503 elsewhere; the JSON body says the
 * node's role, state and timeline. Every probe has a deadline (a dead node
 * must not hold up the search for the live one) and a cap on the body it
 * reads, and never throws: an unreachable node is an answer too.
 */
import { request } from 'node:http';
import { systemTimers, Timers } from '../../common/timers';

/** Where a node's Patroni REST API listens. */
export interface RestAddress {
  readonly host: string;
  readonly port: number;
}

/** What one probe saw. `status` 0: no HTTP answer at all (`error` says why). */
export interface RestAnswer {
  readonly status: number;
  /** The parsed JSON body, when there was one that parsed. */
  readonly body?: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

/** Patroni's status bodies are a few hundred bytes; anything far bigger is not Patroni. */
const MAX_BODY_BYTES = 64 * 1024;

export type RestProbe = (address: RestAddress, path: string, timeoutMs: number) => Promise<RestAnswer>;

/** The real probe, over node:http (no keep-alive: each probe is one short connection); its deadline runs on `timers`. */
export function makePatroniProbe(timers: Timers = systemTimers): RestProbe {
  return (address, path, timeoutMs) => new Promise((resolve) => {
    let settled = false;
    const finish = (answer: RestAnswer): void => {
      if (settled) return;
      settled = true;
      deadline.cancel();
      resolve(answer);
    };
    const req = request({ host: address.host, port: address.port, path, method: 'GET', agent: false, headers: { accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy();
          finish({ status: 0, error: `answer body over ${MAX_BODY_BYTES} bytes` });
        } else chunks.push(chunk);
      });
      res.on('error', (err) => finish({ status: 0, error: err.message }));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)) }));
    });
    // A timer of its own, not req.setTimeout (an idle timeout): the deadline covers the whole exchange.
    const deadline = timers.after(timeoutMs, () => {
      req.destroy();
      finish({ status: 0, error: `no answer within ${timeoutMs} ms` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: 0, error: err.code ?? err.message }));
    req.end();
  });
}

function parseBody(raw: Buffer): Readonly<Record<string, unknown>> | undefined {
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
