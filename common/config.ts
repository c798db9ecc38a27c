/**
 * Appliance configuration: defaults, overridden by the config file
 * (`appliance.conf`, `key = value` lines), overridden by environment variables
 * (`STRONGROOM_<KEY>`), overridden by command-line flags. Every setting is in
 * SETTINGS below with its default and meaning; appliance.conf.example
 * documents the same list (a test keeps them in step).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors';
import { parseDayHourMinuteDuration } from './duration-setting';
import { checkListenerSettings, CONNECTION_SETTINGS, LISTENER_SETTINGS } from './listener-settings';
import { BACKUP_SETTINGS, checkBackupSettings } from './backup-settings';
import { checkHsmSettings, HSM_SETTINGS } from './hsm-settings';
import { checkStorageSettings, STORAGE_SETTINGS } from './storage-settings';

/** A config file larger than this is refused rather than parsed: it is not a config file. */
export const MAX_CONFIG_BYTES = 64 * 1024;

export interface SettingSpec {
  readonly key: string;
  readonly env: string;
  /** Default, given the data folder; null means "unset". */
  readonly defaultValue: (dataDir: string) => string | null;
  readonly meaning: string;
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    key: 'keychain_path',
    env: 'STRONGROOM_KEYCHAIN_PATH',
    defaultValue: (d) => join(d, 'keychain.db'),
    meaning: 'The SQLite keychain file (storage = sqlite). Relative paths are relative to the data folder.',
  },
  ...STORAGE_SETTINGS,
  {
    key: 'hsm_module',
    env: 'STRONGROOM_HSM_MODULE',
    defaultValue: () => '/usr/lib/softhsm/libsofthsm2.so',
    meaning: "Path of the HSM vendor's PKCS#11 module (.so).",
  },
  {
    key: 'hsm_token_label',
    env: 'STRONGROOM_HSM_TOKEN_LABEL',
    defaultValue: () => 'strongroom',
    meaning: 'Label of the token that holds the master key; tokens are found by label, not slot number.',
  },
  {
    key: 'hsm_pin_file',
    env: 'STRONGROOM_HSM_PIN_FILE',
    defaultValue: (d) => join(d, 'hsm-user-pin'),
    meaning: 'File holding the token user PIN (mode 0600). The variable STRONGROOM_HSM_PIN, when set, is used instead.',
  },
  ...HSM_SETTINGS,
  {
    key: 'softhsm2_conf',
    env: 'STRONGROOM_SOFTHSM2_CONF',
    defaultValue: () => null,
    meaning: 'For SoftHSM2 only: its configuration file, exported as SOFTHSM2_CONF before the module loads. Unset: inherit SOFTHSM2_CONF.',
  },
  {
    key: 'timezone',
    env: 'STRONGROOM_TIMEZONE',
    defaultValue: () => 'UTC',
    meaning: 'IANA time zone of the appliance: rollovers happen at midnight in it.',
  },
  ...CONNECTION_SETTINGS,
  {
    key: 'gcm_invocation_limit',
    env: 'STRONGROOM_GCM_INVOCATION_LIMIT',
    defaultValue: () => '2147483648',
    meaning: 'AES-GCM seals (Encrypt, GenerateDataKey: random IVs) one key instance may make, 1 to 2^32 (NIST SP 800-38D §8.3); past it INVOCATION_LIMIT_REACHED until the key is rolled over; a warning is logged at 90%.',
  },
  {
    key: 'server_address',
    env: 'STRONGROOM_SERVER',
    defaultValue: () => null,
    meaning: 'host:port of a running appliance. When set, the CLI works over the wire with the client certificate below instead of opening the keychain itself.',
  },
  {
    key: 'client_cert',
    env: 'STRONGROOM_CLIENT_CERT',
    defaultValue: (d) => join(d, 'pki', 'admin.crt'),
    meaning: "The CLI's client certificate over the wire (init makes one for the first officer, admin).",
  },
  {
    key: 'client_key',
    env: 'STRONGROOM_CLIENT_KEY',
    defaultValue: (d) => join(d, 'pki', 'admin.key'),
    meaning: "The private key of client_cert (mode 0600).",
  },
  {
    key: 'ca_file',
    env: 'STRONGROOM_CA_FILE',
    defaultValue: (d) => join(d, 'pki', 'ca.pem'),
    meaning: 'The appliance CA certificate, to verify the server.',
  },
  {
    key: 'rollover_check_interval_ms',
    env: 'STRONGROOM_ROLLOVER_CHECK_INTERVAL_MS',
    defaultValue: () => '60000',
    meaning: 'How often the server looks for keys due for automatic rollover (it also does at start).',
  },
  {
    key: 'rollover_notice',
    env: 'STRONGROOM_ROLLOVER_NOTICE',
    defaultValue: () => 'P7D',
    meaning: 'How long before an automatic rollover a notice is given, once, as a rollover-notice audit event (ISO 8601 days/weeks, e.g. P7D; P0D for none).',
  },
  {
    key: 'cert_expiry_warning',
    env: 'STRONGROOM_CERT_EXPIRY_WARNING',
    defaultValue: () => 'P30D',
    meaning: 'How long before a certificate (the CA, the server, a client) ends that status shows it and the server warns, once per certificate, as a certificate-expiry-warning audit event and on the event stream (ISO 8601 days/weeks, e.g. P30D; P0D for none).',
  },
  {
    key: 'namespace_rollover',
    env: 'STRONGROOM_NAMESPACE_ROLLOVER',
    defaultValue: () => '',
    meaning: 'Rollover policy of keys created without one, per namespace: "hr=P90D, lab=none, pay=manual" (a cryptoperiod means auto). Others: manual.',
  },
  {
    key: 'rollover_retention',
    env: 'STRONGROOM_ROLLOVER_RETENTION',
    defaultValue: () => 'none',
    meaning: 'How long an instance replaced by a rollover stays (decrypting, retrievable by name) before its destruction is scheduled: ISO 8601 days/weeks, or none to keep it.',
  },
  {
    key: 'idempotency_retention',
    env: 'STRONGROOM_IDEMPOTENCY_RETENTION',
    defaultValue: () => 'PT24H',
    meaning: 'How long the answer of a write sent with an idempotency key is kept for its retries (docs/protocol.md §3.5); older records are deleted by the scheduled sweep (ISO 8601 days, hours, minutes: PT24H, P2D, PT30M; at least PT1M).',
  },
  {
    key: 'destruction_wait',
    env: 'STRONGROOM_DESTRUCTION_WAIT',
    defaultValue: () => 'P7D',
    meaning: 'How long a Destroy waits, cancellable, before the material is destroyed (ISO 8601 days/weeks; P0D destroys at once).',
  },
  {
    key: 'log_level',
    env: 'STRONGROOM_LOG_LEVEL',
    defaultValue: () => 'info',
    meaning: 'error, warn, info or debug. Key material is never logged at any level.',
  },
  {
    key: 'audit_checkpoint_interval_ms',
    env: 'STRONGROOM_AUDIT_CHECKPOINT_INTERVAL_MS',
    defaultValue: () => '60000',
    meaning: 'How often the server signs the audit chain head with the HSM signing key (and once at shutdown); events after the newest checkpoint are covered by the hash chain only.',
  },
  {
    key: 'audit_sinks',
    env: 'STRONGROOM_AUDIT_SINKS',
    defaultValue: () => '',
    meaning: 'SIEM sinks the audit trail is forwarded to (comma list of names); each is described by an audit_sink.<name> line (docs/audit-sinks.md).',
  },
  {
    key: 'dual_control_quorum',
    env: 'STRONGROOM_DUAL_CONTROL_QUORUM',
    defaultValue: () => '2',
    meaning: 'Approvals (distinct officers, never the requester) each dual-controlled class needs: a number for every class, or class=M pairs ("2, key-destroy=3"; 1 for a lab). Copied into the keychain at the first start; later changes go through ApprovalQuorumSet.',
  },
  {
    key: 'approval_ttl',
    env: 'STRONGROOM_APPROVAL_TTL',
    defaultValue: () => 'PT24H',
    meaning: 'How long an approval request waits for its quorum before it expires (ISO 8601: PT24H, PT30M, P2D).',
  },
  {
    key: 'max_pending_approvals_per_requester',
    env: 'STRONGROOM_MAX_PENDING_APPROVALS_PER_REQUESTER',
    defaultValue: () => '8',
    meaning: 'Most approval requests one client may have pending at once, so that nobody fills the queue.',
  },
  {
    key: 'clear_key_import',
    env: 'STRONGROOM_CLEAR_KEY_IMPORT',
    defaultValue: () => 'off',
    meaning: 'Register of clear AES, HMAC or CHACHA20 material: off refuses it (CLEAR_IMPORT_DISABLED; import such keys wrapped, --unwrap-key); dual-control makes it a key import officers approve (a key ceremony). SECRET data and wrapped imports are not affected.',
  },
  {
    key: 'backup_dir',
    env: 'STRONGROOM_BACKUP_DIR',
    defaultValue: (d) => join(d, 'backups'),
    meaning: 'Where the server writes the backups BackupCreate makes (mode 0700; docs/backup.md). Relative paths are relative to the data folder.',
  },
  ...BACKUP_SETTINGS,
  ...LISTENER_SETTINGS,
];

/**
 * Settings whose key carries a name: `audit_sink.<name>` describes the sink
 * `<name>` of audit_sinks. Its variable is STRONGROOM_AUDIT_SINK_<NAME>
 * (upper case, `-` as `_`). A line for a sink that audit_sinks does not name
 * is an error, like an unknown setting.
 */
export const NAMED_SETTING_PREFIXES: readonly string[] = ['audit_sink.'];

export type SettingKey = (typeof SETTINGS)[number]['key'];

export interface ApplianceConfig {
  readonly dataDir: string;
  /** The config file read, or null when there was none. */
  readonly configFile: string | null;
  readonly values: Readonly<Record<string, string | null>>;
  /** Where each value came from: default, file, env or flag. */
  readonly sources: Readonly<Record<string, 'default' | 'file' | 'env' | 'flag'>>;
}

export interface ConfigInputs {
  /** From --data; else STRONGROOM_DATA; else ./strongroom-data. */
  readonly dataDir?: string;
  /** From --config; else STRONGROOM_CONFIG; else <data>/appliance.conf if present. */
  readonly configFile?: string;
  readonly flags?: Readonly<Record<string, string | undefined>>;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export const DEFAULT_DATA_DIR = 'strongroom-data';
export const CONFIG_FILE_NAME = 'appliance.conf';

export function parseConfigText(text: string, origin: string): Record<string, string> {
  const values: Record<string, string> = {};
  const known = new Set(SETTINGS.map((s) => s.key));
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const match = /^([a-z0-9_]+(?:\.[a-z0-9_-]+)?)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new ConfigError(`${origin}:${index + 1}: expected "key = value"`);
    const [, key, value] = match;
    if (!known.has(key) && !NAMED_SETTING_PREFIXES.some((prefix) => key.startsWith(prefix))) throw new ConfigError(`${origin}:${index + 1}: unknown setting "${key}" (see appliance.conf.example)`);
    values[key] = value.trim();
  });
  return values;
}

export function loadConfig(inputs: ConfigInputs = {}): ApplianceConfig {
  const env = inputs.env ?? process.env;
  const cwd = inputs.cwd ?? process.cwd();
  const dataDir = resolve(cwd, inputs.dataDir ?? env.STRONGROOM_DATA ?? DEFAULT_DATA_DIR);
  const explicitFile = inputs.configFile ?? env.STRONGROOM_CONFIG;
  const configFile = explicitFile ? resolve(cwd, explicitFile) : join(dataDir, CONFIG_FILE_NAME);
  let fileValues: Record<string, string> = {};
  let fileRead: string | null = null;
  if (existsSync(configFile)) {
    const bytes = readFileSync(configFile);
    if (bytes.length > MAX_CONFIG_BYTES) throw new ConfigError(`${configFile} is larger than ${MAX_CONFIG_BYTES} bytes`);
    fileValues = parseConfigText(bytes.toString('utf8'), configFile);
    fileRead = configFile;
  } else if (explicitFile) {
    throw new ConfigError(`config file ${configFile} does not exist`);
  }

  const values: Record<string, string | null> = {};
  const sources: Record<string, 'default' | 'file' | 'env' | 'flag'> = {};
  for (const spec of SETTINGS) {
    const flag = inputs.flags?.[spec.key];
    let value: string | null = spec.defaultValue(dataDir);
    let source: 'default' | 'file' | 'env' | 'flag' = 'default';
    if (fileValues[spec.key] !== undefined) [value, source] = [fileValues[spec.key], 'file'];
    if (env[spec.env] !== undefined && env[spec.env] !== '') [value, source] = [env[spec.env] as string, 'env'];
    if (flag !== undefined) [value, source] = [flag, 'flag'];
    values[spec.key] = value;
    sources[spec.key] = source;
  }
  loadNamedSettings(values, sources, fileValues, env, inputs.flags ?? {});
  for (const key of ['keychain_path', 'backup_dir', 'hsm_pin_file', 'softhsm2_conf', 'client_cert', 'client_key', 'ca_file', 'postgres_password_file']) {
    const value = values[key];
    if (value && !isAbsolute(value)) values[key] = resolve(dataDir, value);
  }
  if (!['error', 'warn', 'info', 'debug'].includes(values.log_level ?? '')) {
    throw new ConfigError(`log_level must be error, warn, info or debug, not "${values.log_level}"`);
  }
  checkTimeZone(values.timezone ?? '');
  if (values.rollover_retention !== 'none' && !/^P(\d+W)?(\d+D)?$/.test(values.rollover_retention ?? '')) {
    throw new ConfigError(`rollover_retention must be days or weeks in ISO 8601 (P365D) or none, not "${values.rollover_retention}"`);
  }
  if (parseDayHourMinuteDuration(values.idempotency_retention ?? '') === null) {
    throw new ConfigError(`idempotency_retention must be an ISO 8601 duration of at least a minute (PT24H, P2D, PT30M), not "${values.idempotency_retention}"`);
  }
  for (const key of ['rollover_notice', 'destruction_wait', 'cert_expiry_warning']) {
    if (!/^P(\d+W)?(\d+D)?$/.test(values[key] ?? '') || values[key] === 'P') {
      throw new ConfigError(`${key} must be days or weeks in ISO 8601 (P7D, P2W, P0D), not "${values[key]}"`);
    }
  }
  checkListenerSettings(values);
  if (!CLEAR_KEY_IMPORT_MODES.includes(values.clear_key_import as ClearKeyImport)) {
    throw new ConfigError(`clear_key_import must be off or dual-control, not "${values.clear_key_import}"`);
  }
  checkBackupSettings(values);
  checkStorageSettings(values);
  checkHsmSettings(values);
  if (!/^\d+$/.test(values.rollover_check_interval_ms ?? '') || Number(values.rollover_check_interval_ms) < 1) {
    throw new ConfigError(`rollover_check_interval_ms must be a whole number, not "${values.rollover_check_interval_ms}"`);
  }
  const gcmLimit = values.gcm_invocation_limit ?? '';
  if (!/^\d{1,10}$/.test(gcmLimit) || Number(gcmLimit) < 1 || Number(gcmLimit) > 2 ** 32) {
    throw new ConfigError(`gcm_invocation_limit must be a whole number from 1 to 4294967296 (2^32), not "${gcmLimit}"`);
  }
  if (!/^\d+$/.test(values.audit_checkpoint_interval_ms ?? '') || Number(values.audit_checkpoint_interval_ms) < 1000) {
    throw new ConfigError(`audit_checkpoint_interval_ms must be a whole number of milliseconds, at least 1000, not "${values.audit_checkpoint_interval_ms}"`);
  }
  return { dataDir, configFile: fileRead, values, sources };
}

/** Fills `audit_sink.<name>` for each sink audit_sinks names, layered like any setting. */
function loadNamedSettings(
  values: Record<string, string | null>,
  sources: Record<string, 'default' | 'file' | 'env' | 'flag'>,
  fileValues: Record<string, string>,
  env: NodeJS.ProcessEnv,
  flags: Readonly<Record<string, string | undefined>>,
): void {
  const names = (values.audit_sinks ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const key of Object.keys(fileValues)) {
    if (key.startsWith('audit_sink.') && !names.includes(key.slice('audit_sink.'.length))) {
      throw new ConfigError(`${key} describes a sink that audit_sinks does not name (audit_sinks = ${values.audit_sinks || '(none)'})`);
    }
  }
  for (const name of names) {
    const key = `audit_sink.${name}`;
    const envName = `STRONGROOM_AUDIT_SINK_${name.toUpperCase().replace(/-/g, '_')}`;
    let value: string | null = null;
    let source: 'default' | 'file' | 'env' | 'flag' = 'default';
    if (fileValues[key] !== undefined) [value, source] = [fileValues[key], 'file'];
    if (env[envName] !== undefined && env[envName] !== '') [value, source] = [env[envName] as string, 'env'];
    if (flags[key] !== undefined) [value, source] = [flags[key] as string, 'flag'];
    values[key] = value;
    sources[key] = source;
  }
}

function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch (cause) {
    throw new ConfigError(`timezone "${zone}" is not an IANA time zone (e.g. UTC, Europe/Paris)`, { cause });
  }
}

/** A days/weeks duration setting (rollover_notice, destruction_wait) in milliseconds. */
/** rollover_retention in milliseconds, or null for none. */
export function retentionMs(config: ApplianceConfig): number | null {
  return setting(config, 'rollover_retention') === 'none' ? null : durationMs(config, 'rollover_retention');
}

/** idempotency_retention in milliseconds (checked when the configuration was loaded). */
export function idempotencyRetentionMs(config: ApplianceConfig): number {
  return parseDayHourMinuteDuration(setting(config, 'idempotency_retention'))!;
}

/** How Register of clear material of a generated algorithm is taken (operations/key-import.ts). */
export type ClearKeyImport = 'off' | 'dual-control';
const CLEAR_KEY_IMPORT_MODES: readonly ClearKeyImport[] = ['off', 'dual-control'];

/** clear_key_import, checked when the configuration was loaded. */
export function clearKeyImport(config: ApplianceConfig): ClearKeyImport {
  return setting(config, 'clear_key_import') as ClearKeyImport;
}

export function durationMs(config: ApplianceConfig, key: 'rollover_notice' | 'destruction_wait' | 'rollover_retention' | 'cert_expiry_warning'): number {
  const match = /^P(?:(\d+)W)?(?:(\d+)D)?$/.exec(setting(config, key)) as RegExpExecArray;
  return (Number(match[1] ?? 0) * 7 + Number(match[2] ?? 0)) * 86_400_000;
}

export function numberSetting(config: ApplianceConfig, key: SettingKey): number {
  return Number(setting(config, key));
}

export function setting(config: ApplianceConfig, key: SettingKey): string {
  const value = config.values[key];
  if (value === null || value === undefined) throw new ConfigError(`setting ${key} is not set`);
  return value;
}
