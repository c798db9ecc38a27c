/**
 * Opens the appliance's parts from its configuration: the keychain store (on
 * SQLite or PostgreSQL: open-keychain-store.ts), the HSM (on demand) and the
 * keychain service. Used by the CLI's local commands
 * and, later, by `strongroom serve`.
 */
import { Clock, systemClock } from '../../common/clock';
import { ApplianceConfig, setting } from '../../common/config';
import { wipe } from '../../common/secret';
import { HsmPort } from '../../hsm/hsm-port';
import { openPkcs11Hsm } from '../../hsm/pkcs11-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { Keychain } from '../../domain/keychain';
import { IdSource, timeOrderedIds } from '../../domain/ids';
import { parseNamespaceDefaults } from '../../domain/rollover-policy';
import { readHsmPin } from '../../hsm/hsm-pin';
import { importedMasterKeyVersions } from '../../common/hsm-settings';
import { RestoreSwapOutcome } from '../../domain/backup/restore-swap';
import { StorageKind } from '../../common/storage-settings';
import { openKeychainStore } from './open-keychain-store';

export interface Appliance {
  readonly config: ApplianceConfig;
  /** Where the keychain is kept (storage): the SQLite file, or PostgreSQL, where the SQLite-only machinery (file snapshots, the audit worker's own connection) is not used. */
  readonly storage: StorageKind;
  readonly store: KeychainStore;
  readonly keychain: Keychain;
  /** Where new ids come from (rows, approval requests, audit events, grants). */
  readonly ids: IdSource;
  /** What opening did with a restore staged before it (domain/backup/restore-swap.ts). */
  readonly restore?: RestoreSwapOutcome;
  /** Opens (once) and returns the HSM session. */
  hsm(): Promise<HsmPort>;
  /** Closes the HSM session (one that died with its token), so that the next hsm() opens a new one (server/compose/hsm-watch.ts). */
  resetHsm(): Promise<void>;
  /** Unwraps the keychain keys with the HSM. The HSM session stays open (signing needs it) until close(). */
  unseal(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly clock?: Clock;
  /** Default: random ids from node:crypto (domain/ids.ts). */
  readonly ids?: IdSource;
  readonly readonly?: boolean;
  /** Create the keychain file when missing (init, and tests and benchmarks that build one). */
  readonly create?: boolean;
  /** Called with warnings worth showing an operator (e.g. a loose PIN file). */
  readonly warn?: (message: string) => void;
  /** Wraps every HSM session opened (the port is injected like the clock: the chaos test marks the token's writes with it). */
  readonly decorateHsm?: (hsm: HsmPort) => HsmPort;
}

export async function openHsmFromConfig(config: ApplianceConfig, warn: (message: string) => void = () => undefined): Promise<HsmPort> {
  const softhsmConf = config.values.softhsm2_conf;
  // SoftHSM2 reads SOFTHSM2_CONF when the module initialises, so it must be
  // in the environment before the module is opened.
  if (softhsmConf) process.env.SOFTHSM2_CONF = softhsmConf;
  const source = readHsmPin(setting(config, 'hsm_pin_file'));
  if (source.from === 'env') warn('the HSM PIN comes from STRONGROOM_HSM_PIN: fine for demos and tests, not for production');
  try {
    return await openPkcs11Hsm({
      modulePath: setting(config, 'hsm_module'),
      tokenLabel: setting(config, 'hsm_token_label'),
      pin: source.pin,
      importedMasterKeyVersions: importedMasterKeyVersions(config.values.hsm_imported_master_keys ?? ''),
    });
  } finally {
    wipe(source.pin);
  }
}

export function openAppliance(config: ApplianceConfig, options: OpenOptions = {}): Appliance {
  const { store, storage, restore } = openKeychainStore(config, { readonly: options.readonly, create: options.create, warn: options.warn, clock: options.clock });
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? timeOrderedIds(clock);
  const keychain = new Keychain({
    store,
    clock,
    ids,
    timeZone: setting(config, 'timezone'),
    namespaceDefaults: parseNamespaceDefaults(config.values.namespace_rollover ?? ''),
  });
  let hsmSession: Promise<HsmPort> | null = null;

  const appliance: Appliance = {
    config,
    storage,
    restore,
    store,
    keychain,
    ids,
    hsm() {
      const decorate = options.decorateHsm ?? ((hsm: HsmPort) => hsm);
      hsmSession ??= openHsmFromConfig(config, options.warn).then(decorate, (err) => {
        hsmSession = null;
        throw err;
      });
      return hsmSession;
    },
    async resetHsm() {
      if (!hsmSession) return;
      const session = hsmSession;
      hsmSession = null;
      // A port on a vanished token may fail to close cleanly: it is dropped either way.
      await (await session.catch(() => null))?.close().catch(() => undefined);
    },
    async unseal() {
      await keychain.unseal(await appliance.hsm());
    },
    async close() {
      keychain.seal();
      if (hsmSession) {
        const session = hsmSession;
        hsmSession = null;
        await (await session.catch(() => null))?.close();
      }
      store.close();
    },
  };
  return appliance;
}
