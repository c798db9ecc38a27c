import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, parseConfigText, SETTINGS } from '../../common/config';
import { codeOf } from '../support/error-code';

describe('configuration', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('layers default < file < environment < flag', () => {
    writeFileSync(join(dir, 'appliance.conf'), 'hsm_token_label = from-file\ntimezone = Europe/Paris\n');
    const base = loadConfig({ dataDir: dir, env: {} });
    expect(base.values.hsm_token_label).toBe('from-file');
    expect(base.values.hsm_module).toBe('/usr/lib/softhsm/libsofthsm2.so');
    expect(base.sources.timezone).toBe('file');
    const env = loadConfig({ dataDir: dir, env: { STRONGROOM_HSM_TOKEN_LABEL: 'from-env' } });
    expect(env.values.hsm_token_label).toBe('from-env');
    const flag = loadConfig({ dataDir: dir, env: { STRONGROOM_HSM_TOKEN_LABEL: 'from-env' }, flags: { hsm_token_label: 'from-flag' } });
    expect(flag.values.hsm_token_label).toBe('from-flag');
    expect(flag.sources.hsm_token_label).toBe('flag');
  });

  it('resolves relative paths against the data folder and takes the folder from STRONGROOM_DATA', () => {
    writeFileSync(join(dir, 'appliance.conf'), 'keychain_path = db/k.db\n');
    const config = loadConfig({ env: { STRONGROOM_DATA: dir } });
    expect(config.dataDir).toBe(resolve(dir));
    expect(config.values.keychain_path).toBe(join(dir, 'db/k.db'));
  });

  it('refuses unknown settings, malformed lines, bad values and a missing explicit file', () => {
    expect(codeOf(() => parseConfigText('hsm_modul = x', 'f'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => parseConfigText('just words', 'f'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_TIMEZONE: 'Mars/Olympus' } }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_LOG_LEVEL: 'loud' } }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_METRICS_PORT: '70000' } }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_METRICS_TLS: 'yes' } }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_KMIP_HTTPS_PORT: 'https' } }))).toBe('CONFIG_INVALID');
    expect(loadConfig({ dataDir: dir, env: { STRONGROOM_KMIP_HTTPS_PORT: 'off' } }).values.kmip_https_port).toBe('off');
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_CLEAR_KEY_IMPORT: 'on' } }))).toBe('CONFIG_INVALID');
    expect(loadConfig({ dataDir: dir, env: {} }).values.clear_key_import).toBe('off');
    expect(loadConfig({ dataDir: dir, env: { STRONGROOM_CLEAR_KEY_IMPORT: 'dual-control' } }).values.clear_key_import).toBe('dual-control');
    expect(codeOf(() => loadConfig({ dataDir: dir, configFile: join(dir, 'absent.conf'), env: {} }))).toBe('CONFIG_INVALID');
  });

  it('documents every setting, its variable and its default in appliance.conf.example', () => {
    const example = readFileSync(resolve(__dirname, '../../appliance.conf.example'), 'utf8');
    expect(() => parseConfigText(example, 'appliance.conf.example')).not.toThrow();
    for (const spec of SETTINGS) {
      expect(example).toMatch(new RegExp(`^#? ?${spec.key} = `, 'm'));
      expect(example).toContain(`env ${spec.env}`);
    }
  });
});
