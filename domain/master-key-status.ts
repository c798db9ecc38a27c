/**
 * What MasterKeyStatus and MasterKeyRotate answer (docs/protocol.md §6.4),
 * apart from the rotation itself: the client library takes these as types
 * without the HSM port or storage.
 */
export interface RotationResult {
  readonly from: number[];
  readonly to: number;
  readonly reusedVersion: boolean;
  readonly rewrapped: { readonly keychainKeys: number; readonly secrets: number };
  readonly destroyed: number[];
}

export interface MasterKeyStatus {
  /** Versions in the token, ascending. */
  readonly tokenVersions: number[];
  /** The version new wrappings use (the newest referenced). */
  readonly current: number;
  readonly referenced: Array<{ version: number; keychainKeys: number; secrets: number }>;
  /** In the token, referenced by nothing in this keychain (kept by rotation by default; backups and other keychains may use them). */
  readonly unreferenced: number[];
  /** Referenced but absent from the token: the keychain cannot unseal. */
  readonly missing: number[];
}
