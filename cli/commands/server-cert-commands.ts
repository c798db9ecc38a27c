/**
 * `strongroom server-cert renew`: a new TLS server key and certificate from
 * the appliance CA (ServerCertRenew). With --server the running appliance
 * serves it at once to new connections while open ones go on with the old
 * one: no restart, no downtime. Locally it is stored for the next start.
 */
import { Command } from 'commander';
import { runCommand } from '../context';

interface RenewOptions {
  validityDays?: string;
}

function renewCommand(): Command {
  return new Command('renew')
    .description('renew the TLS server certificate without a restart: new connections get the new one, open ones continue')
    .option('--validity-days <n>', 'certificate lifetime, 1-825 days (default 825)')
    .addHelpText(
      'after',
      `
Examples:
  $ strongroom --server kms.lan:5700 server-cert renew
  $ strongroom server-cert renew --validity-days 397        # locally: served from the next start

The key is made inside the appliance and never leaves it; the certificate
names the hosts of server_sans (change it first to add a name). Clients keep
trusting it through the appliance CA (ca.pem): nothing changes on their side.
One officer may renew; the renewal is audited (operation ServerCertRenew).
With --server it takes effect at once on every listener (native, KMIP, the
event stream, metrics); locally, at the server's next start (a running
server goes on serving, and warning of, the certificate it has: renew with
--server when one runs).`,
    )
    .action(
      runCommand(async (ctx, options: RenewOptions) => {
        const renewed = await ctx.backend().renewServerCertificate(options.validityDays ? Number(options.validityDays) : undefined);
        const where = ctx.backend().mode === 'remote' ? 'served now to new connections' : 'served from the next start';
        ctx.out.result(renewed, () =>
          [
            `Renewed the server certificate (${where})`,
            `  new:      serial ${renewed.certificate.serialNumber}, valid until ${renewed.certificate.notAfter}`,
            `            SHA-256 ${renewed.certificate.fingerprint256}`,
            `  replaced: serial ${renewed.previous.serialNumber}, valid until ${renewed.previous.notAfter}`,
          ].join('\n'),
        );
      }),
    );
}

export function serverCertCommand(): Command {
  return new Command('server-cert').description("renew the appliance's TLS server certificate").addCommand(renewCommand());
}
