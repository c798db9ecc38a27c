/**
 * Starts a TLS listener and turns the errors an operator can fix (the port
 * is taken, not allowed, or the address is not this machine's) into a
 * CONFIG_INVALID that names the settings to change. Shared by the key
 * server and the event stream.
 */
import { AddressInfo, Server } from 'node:net';
import { ConfigError } from '../common/errors';

/** Listens on host:port and resolves with the port (the one chosen when port is 0). */
export async function listenOn(server: Server, host: string, port: number, what: { readonly name: string; readonly settings: string }): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new ConfigError(`cannot listen ${what.name}on ${host}:${port} (${err.code}): choose another ${what.settings}`, { cause: err })
          : err,
      ),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
