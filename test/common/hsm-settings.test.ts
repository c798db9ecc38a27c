/**
 * hsm_imported_master_keys is checked when the configuration loads, like
 * every setting: empty by default (every master key must be generated in
 * the token), else a comma list of master-key versions; anything else is
 * CONFIG_INVALID.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { importedMasterKeyVersions } from '../../common/hsm-settings';
import { codeOf } from '../support/error-code';

describe('hsm_imported_master_keys', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-hsm-config-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty by default: no version is accepted as imported', () => {
    const config = loadConfig({ dataDir: dir, env: {} });
    expect(importedMasterKeyVersions(config.values.hsm_imported_master_keys as string)).toEqual([]);
  });

  it('reads a comma list of versions, ascending and without repeats', () => {
    const config = loadConfig({ dataDir: dir, env: { STRONGROOM_HSM_IMPORTED_MASTER_KEYS: ' 3, 1,3 ' } });
    expect(importedMasterKeyVersions(config.values.hsm_imported_master_keys as string)).toEqual([1, 3]);
  });

  it.each(['0', 'v1', '1.5', '-1', 'all', '2147483648', '1;2'])('refuses "%s" with CONFIG_INVALID', (text) => {
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { STRONGROOM_HSM_IMPORTED_MASTER_KEYS: text } }))).toBe('CONFIG_INVALID');
  });
});
