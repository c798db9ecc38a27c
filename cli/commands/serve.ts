/**
 * `strongroom serve`: unseals the keychain with the HSM and serves the native
 * protocol, KMIP and the live event stream over mutual TLS, and Prometheus
 * metrics, until SIGINT or SIGTERM.
 */
import { Command } from 'commander';
import { setting } from '../../common/config';
import { ValidationError } from '../../common/errors';
import { startApplianceServer, StartOptions } from '../../server/compose/appliance-server';
import { eventsAddress } from '../../server/events/event-server-config';
import { createLogger } from '../../common/logger';
import { runCommand } from '../context';

interface ServeOptions {
  port?: string;
  eventsPort?: string;
}

function portOption(value: string, flag: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new ValidationError(`${flag} must be a port number from 0 to 65535, not "${value}"`);
  return Number(value);
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve keys to applications over mutual TLS (docs/protocol.md)')
    .option('-p, --port <port>', 'TCP port (listen_port; 0 picks a free one, for the event stream, KMIP and metrics too)')
    .option('--events-port <port>', 'TCP port of the live event stream (events_port, default 5701; 0 picks a free one)')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom serve --data ./demo-data
  $ STRONGROOM_LISTEN_ADDRESS=0.0.0.0 strongroom serve
  $ strongroom serve --port 5700 --events-port 5701

The server prints one JSON line {"listening": {"address", "port", "eventsAddress",
"eventsPort", "kmipPort", "kmipHttpsPort", "metricsAddress", "metricsPort"}} on
stdout when it is ready (eventsPort: the live event stream, \`strongroom events\`;
kmipPort: KMIP, docs/kmip.md, null when kmip_port is off; kmipHttpsPort: KMIP
over HTTPS, null when kmip_https_port is off; metricsPort: Prometheus metrics at
/metrics, docs/metrics.md, null when metrics_port is off) and logs (JSON lines)
on stderr. Stop it with Ctrl-C or SIGTERM. After an approved \`backup restore\` the
server restarts itself onto the restored keychain on the same ports and prints
the line again with "restarted": "backup-restore".`,
    )
    .action(
      runCommand(async (ctx, options: ServeOptions) => {
        const config = ctx.config();
        const log = createLogger(setting(config, 'log_level'));
        const stopped = new Promise<'stop'>((resolve) => {
          const stop = (): void => resolve('stop');
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        let ports: Pick<StartOptions, 'port' | 'eventsPort' | 'kmipPort' | 'kmipHttpsPort' | 'metricsPort'> = {
          port: options.port === undefined ? undefined : portOption(options.port, '--port'),
          eventsPort: options.eventsPort === undefined ? undefined : portOption(options.eventsPort, '--events-port'),
        };
        // A staged backup restore (docs/backup.md §5) restarts the server in-process: closed, the data folder opened again (which puts the restored keychain in place), served on the same ports.
        for (let restarts = 0; ; restarts++) {
          const appliance = ctx.open();
          const server = await startApplianceServer(appliance, { log, ...ports });
          process.stdout.write(`${JSON.stringify({ listening: { address: setting(config, 'listen_address'), port: server.port, eventsAddress: eventsAddress(config), eventsPort: server.eventsPort, kmipPort: server.kmipPort, kmipHttpsPort: server.kmipHttpsPort, metricsAddress: setting(config, 'metrics_address'), metricsPort: server.metricsPort }, ...(restarts > 0 ? { restarted: 'backup-restore' } : {}) })}\n`);
          ports = { port: server.port, eventsPort: server.eventsPort, kmipPort: server.kmipPort, kmipHttpsPort: server.kmipHttpsPort, metricsPort: server.metricsPort };
          const why = await Promise.race([stopped, server.restartRequested.then(() => 'restore' as const)]);
          log.info(why === 'stop' ? 'stopping' : 'restarting onto the restored keychain');
          await server.close();
          await appliance.close();
          if (why === 'stop') return;
        }
      }),
    );
}
