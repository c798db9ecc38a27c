#!/usr/bin/env node
/**
 * The `strongroom` admin CLI. Each command lives in cli/commands/; this file
 * only assembles them and maps usage errors to exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { EXIT } from '../common/error-codes';
import { applianceVersion } from '../common/version';
import { initCommand } from './commands/init';
import { keyCreateCommand } from './commands/key-create';
import { keyGetCommand } from './commands/key-get';
import { keyExportCommand } from './commands/key-export';
import { keyListCommand } from './commands/key-list';
import { keyRegisterCommand } from './commands/key-register';
import { keyRolloverCommand, keyUndoRolloverCommand } from './commands/key-rollover';
import { keyShowCommand } from './commands/key-show';
import { aliasCommand } from './commands/alias-commands';
import { auditCommand } from './commands/audit-commands';
import { namespaceCommand } from './commands/namespace-commands';
import { clientCommand } from './commands/client-commands';
import { policyCommand } from './commands/policy-commands';
import { serveCommand } from './commands/serve';
import { keySetPolicyCommand, rolloverCommand } from './commands/rollover-commands';
import { keyActivateCommand, keyDestroyCommand, keyRevokeCommand } from './commands/key-lifecycle';
import { statusCommand } from './commands/status';
import { reportCommand } from './commands/report';
import { sealCommand, unsealCommand } from './commands/unseal-commands';
import { masterKeyCommand } from './commands/master-key-commands';
import { approvalsCommand } from './commands/approvals-commands';
import { eventsCommand } from './commands/events';
import { encryptCommands } from './commands/crypto-commands';
import { claimOwnOptions } from './own-options';
import { completionCommand } from './commands/completion';
import { backupCommand } from './commands/backup-commands';
import { serverCertCommand } from './commands/server-cert-commands';
import { clusterCommand } from './commands/cluster-commands';

/** Filled in when commander refuses the command line: which command's help to read (main puts it in the --json error). */
export interface UsageFailure {
  helpCommand?: string;
}

export function buildProgram(json = false, usageFailure: UsageFailure = {}): Command {
  const program = new Command('strongroom')
    .description('Strongroom key manager appliance: named, versioned keys sealed by an HSM master key')
    .version(applianceVersion())
    .option('--data <dir>', 'data folder (default: $STRONGROOM_DATA or ./strongroom-data)')
    .option('--config <file>', 'config file (default: <data>/appliance.conf)')
    .option('--json', 'print one JSON document (errors too) instead of text')
    .option('--server <host:port>', 'work on a running appliance over mutual TLS (server_address; default: the local keychain)')
    .option('--cert <file>', 'client certificate for --server (client_cert; default <data>/pki/admin.crt)')
    .option('--key <file>', 'its private key (client_key; default <data>/pki/admin.key)')
    .option('--ca <file>', 'the appliance CA certificate (ca_file; default <data>/pki/ca.pem)')
    .addHelpText(
      'after',
      `
Getting started:
  $ strongroom init --data ./demo-data --demo-token
  $ export STRONGROOM_DATA=./demo-data
  $ strongroom key create hr/payroll
  $ strongroom key rollover hr/payroll
  $ strongroom key show hr/payroll
  $ strongroom serve &                              # then, over mutual TLS:
  $ strongroom --server 127.0.0.1:5700 key list
  $ strongroom client issue app1 --role app --out ./certs
  $ strongroom --server 127.0.0.1:5700 policy grant --client app1 --pattern 'hr/*' --permissions get
                                                    # dual control: exit 12, two other officers approve
  $ strongroom --server 127.0.0.1:5700 approvals approve <id> --digest <digest>

Exit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 conflict or wrong
state, 5 sealed or not initialised, 6 HSM, 7 integrity failure, 8 storage,
9 configuration, 10 authentication or permission, 11 server unavailable,
12 approval required (dual control: see strongroom approvals). Details: docs/strongroom.1.md`,
    );

  const key = new Command('key').description('create, fetch and roll over keys');
  for (const sub of [keyCreateCommand(), keyRegisterCommand(), keyListCommand(), keyShowCommand(), keyGetCommand(), keyExportCommand(), keyRolloverCommand(), keyUndoRolloverCommand(), keySetPolicyCommand(), keyActivateCommand(), keyRevokeCommand(), keyDestroyCommand()]) {
    key.addCommand(sub);
  }
  const client = clientCommand();
  const policy = policyCommand();
  const rollover = rolloverCommand();
  const alias = aliasCommand();
  const namespace = namespaceCommand();
  const groups = [key, client, policy, rollover, alias, namespace, auditCommand(), masterKeyCommand(), approvalsCommand(), backupCommand(), serverCertCommand(), clusterCommand()];
  program.addCommand(initCommand()).addCommand(statusCommand()).addCommand(serveCommand());
  program.addCommand(reportCommand());
  program.addCommand(unsealCommand()).addCommand(sealCommand());
  for (const group of groups) program.addCommand(group);
  program.addCommand(eventsCommand());
  for (const command of encryptCommands()) program.addCommand(command);
  program.addCommand(completionCommand());
  for (const command of [program, ...groups, ...program.commands, ...groups.flatMap((g) => g.commands)]) {
    command.exitOverride();
    // With --json, usage errors come out as the one JSON document too (main prints it), not as text.
    if (json) command.configureOutput({ outputError: () => void (usageFailure.helpCommand = `${commandPath(command)} --help`) });
    // In text mode a usage error ends with what to run next: the help of the very command that refused it.
    else command.showHelpAfterError(`(see \`${commandPath(command)} --help\`)`);
  }
  return program;
}

/** The words that name a command, e.g. "strongroom key list". */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const usageFailure: UsageFailure = {};
  const program = buildProgram(json, usageFailure);
  try {
    // A command's own --key (policy check) is not the global TLS key file: see own-options.ts.
    await program.parseAsync([...argv.slice(0, 2), ...claimOwnOptions(program, argv.slice(2))]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0 by design.
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      if (json && err.exitCode !== 0) {
        const message = err.message.replace(/^error: /, '');
        const help = usageFailure.helpCommand ?? 'strongroom --help';
        process.stdout.write(`${JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: `${message} (see \`${help}\`)` } }, null, 2)}\n`);
      }
      return;
    }
    throw err;
  }
}

if (require.main === module) {
  // A reader that stops early (`strongroom --help | head`) is not an error: the output it did not
  // want is dropped, and the command's own exit code stands, instead of an EPIPE stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? EXIT.OK);
  });
  main(process.argv).catch((err: unknown) => {
    process.stderr.write(`error [INTERNAL_ERROR]: ${String(err)}\n`);
    process.exitCode = EXIT.INTERNAL;
  });
}
