/**
 * `strongroom serve`: unseals the keychain with the HSM and serves the native
 * protocol over mutual TLS until SIGINT or SIGTERM.
 */
import { Command } from 'commander';
import { setting } from '../../common/config';
import { startApplianceServer } from '../../server/appliance-server';
import { createLogger } from '../../server/logger';
import { runCommand } from '../context';

interface ServeOptions {
  port?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve keys to applications over mutual TLS (docs/protocol.md)')
    .option('-p, --port <port>', 'TCP port (listen_port; 0 picks a free one)')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom serve --data ./demo-data
  $ STRONGROOM_LISTEN_ADDRESS=0.0.0.0 strongroom serve

The server prints one JSON line {"listening": {...}} on stdout when it is ready
and logs (JSON lines) on stderr. Stop it with Ctrl-C or SIGTERM.`,
    )
    .action(
      runCommand(async (ctx, options: ServeOptions) => {
        const config = ctx.config();
        const log = createLogger(setting(config, 'log_level'));
        const appliance = ctx.open();
        const server = await startApplianceServer(appliance, { log, port: options.port === undefined ? undefined : Number(options.port) });
        process.stdout.write(`${JSON.stringify({ listening: { address: setting(config, 'listen_address'), port: server.port } })}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        log.info('stopping');
        await server.close();
      }),
    );
}
