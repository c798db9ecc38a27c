/**
 * TEST ONLY: the server `strongroom serve` runs (cli/commands/serve.ts), on a
 * clock the parent moves, so that a test can make keys fall due while the
 * appliances run (scripts/cluster/appliances.ts with
 * test/support/movable-clock-launcher.ts):
 *
 *   fork('dist/test/support/movable-clock-serve-child.js', [DATA_DIR])
 *
 * It loads DATA_DIR's appliance.conf as the CLI does, opens the appliance
 * and starts the same server with the same logger, prints the same
 * `{"listening": …}` line on stdout, and stops on SIGTERM or SIGINT like
 * serve. Unlike serve, its clock (the keychain's, the sweeps', the audit
 * trail's) is the real one plus an offset, 0 at start, that a
 * `{type:'clock', offsetMs}` message over the fork's IPC channel sets;
 * answered `{type:'clock-set', offsetMs}` once set. No setting, flag or
 * environment variable reaches this: only a parent holding the IPC channel
 * moves the clock, and the production CLI has no such channel. It exits when
 * its parent goes away (IPC disconnect), so an aborted test leaves no server
 * behind.
 */
import { Clock } from '../../common/clock';
import { loadConfig, setting } from '../../common/config';
import { createLogger } from '../../common/logger';
import { startApplianceServer } from '../../server/compose/appliance-server';
import { eventsAddress } from '../../server/events/event-server-config';
import { openAppliance } from '../../server/compose/open-appliance';

/** What the parent sends to move the clock. */
export interface MoveClockMessage {
  readonly type: 'clock';
  readonly offsetMs: number;
}

/** Whatever close() awaits, the child is gone after this long. */
const STOP_TIMEOUT_MS = 10_000;

/** The real clock shifted by an offset the parent sets over IPC. */
function movableClock(): Clock {
  let offsetMs = 0;
  process.on('message', (message: Partial<MoveClockMessage>) => {
    if (message?.type !== 'clock' || !Number.isSafeInteger(message.offsetMs)) return;
    offsetMs = message.offsetMs as number;
    process.send?.({ type: 'clock-set', offsetMs });
  });
  return { nowMs: () => Date.now() + offsetMs };
}

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!process.send || !dataDir) throw new Error('movable-clock-serve-child runs as a forked child of a test: fork(it, [DATA_DIR])');
  const config = loadConfig({ dataDir });
  const log = createLogger(setting(config, 'log_level'));
  const clock = movableClock();
  const appliance = openAppliance(config, { clock, warn: (message) => log.warn(message) });
  const server = await startApplianceServer(appliance, { log, clock });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(2), STOP_TIMEOUT_MS).unref();
    log.info('stopping');
    server
      .close()
      .then(() => appliance.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error('stop failed', { error: String(err) });
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('disconnect', stop);
  process.stdout.write(`${JSON.stringify({ listening: { address: setting(config, 'listen_address'), port: server.port, eventsAddress: eventsAddress(config), eventsPort: server.eventsPort, kmipPort: server.kmipPort, kmipHttpsPort: server.kmipHttpsPort, metricsAddress: setting(config, 'metrics_address'), metricsPort: server.metricsPort } })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`movable-clock-serve-child failed: ${String(err)}\n`);
  process.exit(1);
});
