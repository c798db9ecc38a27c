/**
 * HSM settings beyond the module, token and PIN (common/config.ts layers
 * them like every other): which master-key versions the operator imported
 * into the token on purpose. Kept apart from config.ts, as the backup and
 * listener settings are.
 *
 * Why the setting exists: the appliance refuses a master key that was not
 * generated inside its token (CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE
 * false: its bytes were once known outside, so someone holding the PIN may
 * have planted it; hsm/pkcs11-key-checks.ts). Putting the SAME master key
 * into a second HSM by writing or unwrapping it (a key ceremony with
 * SoftHSM2 and pkcs11-tool, or a vendor's wrapped export) yields exactly
 * such a key, in both tokens. Naming its version here is the operator's
 * explicit, per-version statement that this import was theirs
 * (docs/backup.md §6); every other attribute is still checked, and any
 * version not named (a later rotation's new key) must be generated in the
 * token as before.
 */
import type { SettingSpec } from './config';
import { ConfigError } from './errors';

/** The largest master-key version (hsm/hsm-arguments.ts MAX_MASTER_KEY_VERSION). */
const MAX_VERSION = 0x7fffffff;

export const HSM_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'hsm_imported_master_keys',
    env: 'STRONGROOM_HSM_IMPORTED_MASTER_KEYS',
    defaultValue: () => '',
    meaning: 'Master-key versions you imported into the token yourself (comma list, e.g. "1"), to share one master key between appliances (docs/backup.md §6): these are accepted although not generated in the token. Empty: every master key must have been generated inside the token.',
  },
];

/** hsm_imported_master_keys as versions, ascending, without repeats; ConfigError for anything but whole numbers 1..2^31-1. */
export function importedMasterKeyVersions(text: string): number[] {
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const versions = new Set<number>();
  for (const item of items) {
    const version = /^\d{1,10}$/.test(item) ? Number(item) : NaN;
    if (!(version >= 1 && version <= MAX_VERSION)) {
      throw new ConfigError(`hsm_imported_master_keys must be a comma list of master-key versions (whole numbers from 1), not "${text}"`);
    }
    versions.add(version);
  }
  return [...versions].sort((a, b) => a - b);
}

export function checkHsmSettings(values: Readonly<Record<string, string | null>>): void {
  importedMasterKeyVersions(values.hsm_imported_master_keys ?? '');
}
