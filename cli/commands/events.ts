/**
 * `strongroom events`: subscribes to the appliance's live event stream
 * (docs/protocol.md §8) with an officer's or auditor's certificate and
 * prints audit events, approval requests and rollover notices as they come.
 * Without --follow it prints what arrives within --wait (or until --limit);
 * with --follow it runs until Ctrl-C, --limit, or the server ends the
 * stream. --json prints a stream: one compact JSON object per line (audit
 * lines are the audit export line format, protocol/audit-line.ts),
 * and a failure as one last line {"error": …}.
 */
import { Command } from 'commander';
import { numberSetting } from '../../common/config';
import { ERROR_CODES, ErrorCode } from '../../common/error-codes';
import { asStrongroomError, ConfigError, StrongroomError, ValidationError } from '../../common/errors';
import { EventStream, StreamEvent } from '../../client/event-stream';
import type { SubscribedMessage } from '../../protocol/event-wire';
import { isStrongroomClientError } from '../../client/client-error';
import { parseAddress, readPem } from '../backend/wire-client';
import { runCommand } from '../context';

/** Most events one run prints with --limit. */
export const MAX_EVENTS_LIMIT = 1_000_000;
/** Longest --wait: beyond it, use --follow. */
export const MAX_WAIT_MS = 600_000;
const DEFAULT_WAIT_MS = 2_000;

interface EventsOptions {
  follow?: boolean;
  type: string[];
  auditType: string[];
  namespace: string[];
  limit?: string;
  wait: string;
  eventsPort?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim())];
}

function wholeNumber(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new ValidationError(`${flag} must be a whole number from ${min} to ${max}, not "${value}"`);
  return Number(value);
}

/** Client errors become StrongroomErrors with the same code, so the exit codes apply. */
function asCliError(err: unknown): StrongroomError {
  if (isStrongroomClientError(err)) {
    const code = (Object.prototype.hasOwnProperty.call(ERROR_CODES, err.code) ? err.code : 'UNAVAILABLE') as ErrorCode;
    return new StrongroomError(code, err.message, { cause: err });
  }
  return asStrongroomError(err);
}

/** One readable line per event. */
export function eventLine(event: StreamEvent): string {
  const e = event as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (e.kind === 'audit') {
    const a = e.event ?? {};
    const what = [a.type, a.operation, a.key, a.instance].filter((v) => v !== null && v !== undefined && v !== '').join(' ');
    const who = a.identity?.name ? ` by ${a.identity.name}` : a.source ? ` from ${a.source}` : '';
    return `#${e.seq} ${a.time} ${what}${who}: ${a.result}`;
  }
  if (e.kind === 'approval') return `${e.time} approval ${e.action} ${e.operation}${e.key ? ` ${e.key}` : ''} requested by ${e.requester}${e.actor ? `, ${e.action} by ${e.actor}` : ''} (${e.approvals}/${e.required}) request ${e.requestId}`;
  if (e.kind === 'rollover-notice') return `${e.time} rollover-notice ${e.key} rolls over at ${e.dueAt}`;
  if (e.kind === 'certificate-expiry') return `${e.time} certificate-expiry ${e.certificate} ${e.name} (serial ${e.serialNumber}) ends ${e.notAfter}, in ${e.daysLeft} days`;
  return JSON.stringify(event);
}

function streamAddress(host: string, port: number): string {
  const authority = host.includes(':') ? `[${host}]` : host; // an IPv6 address, as a URL writes it
  return `wss://${authority}:${port}/events`;
}

/** What the stream is connected to and what the server agreed to send: the filter as the server confirmed it. */
export function connectedLine(host: string, port: number, subscription: SubscribedMessage): string {
  const { filter, identity } = subscription;
  const list = (values: readonly string[] | null): string => (values === null ? 'all' : values.join(','));
  return `connected to ${streamAddress(host, port)} as ${identity.name} (${identity.role}); kinds ${list(filter.types)}, audit types ${list(filter.auditTypes)}, namespaces ${list(filter.namespaces)}`;
}

export function eventsCommand(): Command {
  return new Command('events')
    .description('print live audit events, approval requests and rollover notices from a running appliance (officers and auditors)')
    .option('-f, --follow', 'keep printing until Ctrl-C (or --limit)')
    .option('-t, --type <kinds>', 'event kinds: audit, approval, rollover-notice, certificate-expiry (comma list, repeatable; default all)', collect, [])
    .option('--audit-type <types>', 'audit event types: operation, auth-failure, events-subscribe, rollover, … (comma list, repeatable)', collect, [])
    .option('-n, --namespace <ns>', 'only events about keys in these namespaces (comma list, repeatable)', collect, [])
    .option('--limit <n>', `stop after N events (1-${MAX_EVENTS_LIMIT})`)
    .option('--wait <ms>', `without --follow: how long to wait for events (default ${DEFAULT_WAIT_MS})`, String(DEFAULT_WAIT_MS))
    .option('--events-port <port>', 'the event stream port (events_port; default 5701); the host is the one of --server')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server kms.example.com:5700 events --follow
  $ strongroom --server 127.0.0.1:5700 events --follow --type approval
  $ strongroom --server 127.0.0.1:5700 events -f --type audit --audit-type auth-failure --namespace hr
  $ strongroom --server 127.0.0.1:5700 --json events --type audit --limit 100 > events.jsonl

With --json the output is a stream: one JSON object per line, as it comes
({"kind":"audit","seq":…,"prevHash":…,"hash":…,"event":{…}}, {"kind":"approval",…},
{"kind":"rollover-notice",…}); a failure is a last line {"error":{"code","message"}}.
Audit lines are the audit export line format (seq and chain hashes): a follower can verify the chain.
Once subscribed, a line on stderr says what it is connected to (address, certificate, the
filter the server confirmed), so a quiet --follow is known to be listening.
Exit codes: 0 ok (also on Ctrl-C), 10 certificate refused or not an officer/auditor
(or revoked while following), 11 server unavailable or this subscriber dropped for reading too slowly.`,
    )
    .action(
      runCommand(async (ctx, options: EventsOptions) => {
        const json = ctx.out.json;
        try {
          const config = ctx.config();
          const address = config.values.server_address;
          if (!address) throw new ConfigError('events needs a running appliance: give --server HOST:PORT (or set server_address)');
          const { host } = parseAddress(address);
          const port = options.eventsPort !== undefined ? wholeNumber(options.eventsPort, '--events-port', 1, 65535) : numberSetting(config, 'events_port');
          const limit = options.limit === undefined ? null : wholeNumber(options.limit, '--limit', 1, MAX_EVENTS_LIMIT);
          const waitMs = wholeNumber(options.wait, '--wait', 0, MAX_WAIT_MS);
          const stream = await EventStream.open({
            host,
            port,
            ca: readPem(config, 'ca_file'),
            cert: readPem(config, 'client_cert'),
            key: readPem(config, 'client_key'),
            types: options.type.length > 0 ? options.type : undefined,
            auditTypes: options.auditType.length > 0 ? options.auditType : undefined,
            namespaces: options.namespace.length > 0 ? options.namespace : undefined,
          }).catch((err: unknown) => {
            const error = asCliError(err);
            if (error.code !== 'UNAVAILABLE') throw error;
            // Say where it tried: the events port is its own setting, and a server started with --port 0 picks another.
            throw new StrongroomError('UNAVAILABLE', `${error.message} at ${streamAddress(host, port)}: give the port the appliance serves its event stream on (--events-port, or events_port)`, { cause: err, details: { host, port } });
          });
          let stopped = false;
          const stop = (): void => {
            stopped = true;
            void stream.close();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          try {
            const deadline = options.follow ? Number.POSITIVE_INFINITY : Date.now() + waitMs;
            let printed = 0;
            // Said before the first event, which may be hours away: stderr, so a --json stream stays pure.
            process.stderr.write(`${connectedLine(host, port, stream.subscription)}\n`);
            if (!json && !options.follow) process.stderr.write(`listening for ${waitMs} ms (--follow to keep going)\n`);
            else if (!json) process.stderr.write('waiting for events (Ctrl-C to stop)\n');
            while (!stopped && (limit === null || printed < limit) && Date.now() < deadline) {
              const read = await stream.read(options.follow ? 1000 : Math.max(1, deadline - Date.now()));
              if (read.type === 'end') {
                if (read.error !== null && !stopped) throw asCliError(read.error);
                break;
              }
              if (read.type === 'event') {
                process.stdout.write(`${json ? JSON.stringify(read.event) : eventLine(read.event)}\n`);
                printed++;
              }
            }
          } finally {
            process.removeListener('SIGINT', stop);
            process.removeListener('SIGTERM', stop);
            await stream.close();
          }
        } catch (err) {
          if (!json) throw err;
          // The stream's last line: compact, so every line of the output parses on its own.
          const error = asStrongroomError(err);
          process.stdout.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
          process.exitCode = error.exitCode;
        }
      }),
    );
}
