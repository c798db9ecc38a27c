/**
 * What every command gets: its output, the configuration, and a way to open
 * the appliance. runCommand() wraps an action so that errors become a
 * message and a meaningful exit code, and the appliance is always closed
 * (which zeroes the keychain key).
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ApplianceConfig, loadConfig } from '../common/config';
import { Appliance, openAppliance } from '../server/compose/open-appliance';
import { makeOutput, Output } from './output';
import { CliBackend } from './backend/backend';
import { operationsBackend } from './backend/operations-backend';
import { Requester } from '../protocol/requester';
import { wireRequester } from './backend/wire-client';
import { openInProcessTransport } from '../server/local/in-process-transport';
import { ValidationError } from '../common/errors';

export interface GlobalOptions {
  readonly data?: string;
  readonly config?: string;
  readonly json?: boolean;
  readonly server?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
}

export interface CommandContext {
  readonly out: Output;
  readonly config: () => ApplianceConfig;
  /** Opens the local appliance; closed automatically when the command ends. */
  readonly open: (options?: { readonly?: boolean; create?: boolean; flags?: Record<string, string | undefined> }) => Appliance;
  /** The keychain to work on: remote when --server (or server_address) is set, else local. Closed automatically. */
  readonly backend: () => CliBackend;
  /**
   * The dispatcher to send operations to: a running appliance over mutual
   * TLS when --server (or server_address) is set, else the data folder's
   * keychain through the in-process transport, as the local operator.
   * Closed automatically.
   */
  readonly requester: (options?: { maxFrameBytes?: number }) => Requester;
}

/**
 * --cert and --key name one identity: its certificate and its private key.
 * One without the other would pair it with the configured default (the
 * officer's admin.key or admin.crt) and silently act as someone else, or
 * fail the handshake with a puzzling TLS error, so neither is accepted alone.
 */
function assertCertAndKeyTogether(globals: GlobalOptions): void {
  if (globals.cert !== undefined && globals.key === undefined) {
    throw new ValidationError('--cert needs --key: give the private key of that certificate too (--cert FILE --key FILE)', { details: { missing: '--key' } });
  }
  if (globals.key !== undefined && globals.cert === undefined) {
    throw new ValidationError('--key needs --cert: give the certificate of that private key too (--cert FILE --key FILE)', { details: { missing: '--cert' } });
  }
}

type Action<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<void>;

export function runCommand<A extends unknown[]>(action: Action<A>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    // The program's own options: a command may have an option of the same name (policy check --key NAME) that is not the global one.
    let root = command;
    while (root.parent) root = root.parent;
    const globals = root.opts() as GlobalOptions;
    const out = makeOutput(Boolean(globals.json));
    const opened: Array<{ close(): Promise<void> }> = [];
    // Paths given on the command line are relative to where the user is, not to the data folder.
    const fromCwd = (path: string | undefined): string | undefined => (path === undefined ? undefined : resolve(path));
    const globalFlags = { server_address: globals.server, client_cert: fromCwd(globals.cert), client_key: fromCwd(globals.key), ca_file: fromCwd(globals.ca) };
    const config = (flags?: Record<string, string | undefined>): ApplianceConfig =>
      loadConfig({ dataDir: globals.data, configFile: globals.config, flags: { ...globalFlags, ...flags } });
    const ctx: CommandContext = {
      out,
      config: () => config(),
      open: (options = {}) => {
        const appliance = openAppliance(config(options.flags), { readonly: options.readonly, create: options.create, warn: out.warn });
        opened.push(appliance);
        return appliance;
      },
      requester: (options = {}) => {
        const loaded = config();
        const address = loaded.values.server_address;
        const requester = address ? wireRequester(loaded, address, options) : openInProcessTransport(loaded, { warn: out.warn });
        opened.push(requester);
        return requester;
      },
      backend: () => operationsBackend(config().values.server_address ? 'remote' : 'local', ctx.requester()),
    };
    try {
      assertCertAndKeyTogether(globals);
      await action(ctx, ...(args.slice(0, -1) as A));
    } catch (err) {
      process.exitCode = out.failure(err);
    } finally {
      for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    }
  };
}
