/**
 * Material waiting for a key import's approval (class `key-import`), sealed
 * so that the approval record in the untrusted database never holds it in
 * the clear: AES-256-GCM under the current keychain key (which only the
 * unsealed appliance holds: the HSM's master key unwraps it at unseal), as
 * instance material and appliance secrets are, with its own AAD label.
 *
 * The AAD binds the blob to its request: the keychain, the approval request
 * id, the requester, the key name, the algorithm, the key check value and
 * the sealing key's version. Moved into another request, edited, or paired
 * with another check value, it fails to open (INTEGRITY_FAILURE) and nothing
 * is registered. The database's row MAC over the request
 * (domain/trust/authenticated-approvals.ts) refuses such an edit first; this
 * is the second, independent lock.
 */
import { KeychainError } from '../../common/errors';
import { encodeFields } from '../field-encoding';
import { openWithAad, sealWithAad } from '../instance-seal';
import { KeychainSeal } from './keychain-seal';

/** Domain separation: these AADs are for import material awaiting approval and nothing else. */
const AAD_LABEL = 'strongroom/import-material/v1';

/** What the sealed material is bound to. */
export interface ImportBinding {
  readonly requestId: string;
  readonly requester: string;
  /** The canonical key name the import will register. */
  readonly name: string;
  readonly algorithm: string;
  /** The key check value shown to approvers (upper-case hex) and its kind. */
  readonly kcv: string;
  readonly kcvKind: string;
}

/** The sealed material as the approval record stores it (JSON). */
export interface SealedImport {
  /** The keychain key version that sealed it. */
  readonly sealVersion: number;
  /** format || IV || ciphertext || tag (instance-seal.ts), base64. */
  readonly sealed: string;
}

function aad(keychainId: string, binding: ImportBinding, sealVersion: number): Buffer {
  return encodeFields([AAD_LABEL, keychainId, binding.requestId, binding.requester, binding.name, binding.algorithm, binding.kcv, binding.kcvKind, sealVersion]);
}

export function sealImportMaterial(seal: KeychainSeal, binding: ImportBinding, material: Buffer): SealedImport {
  const unsealed = seal.requireUnsealed();
  const sealVersion = unsealed.currentVersion;
  const sealed = sealWithAad(seal.sealingKey(unsealed, sealVersion), aad(unsealed.keychainId, binding, sealVersion), material);
  return { sealVersion, sealed: sealed.toString('base64') };
}

/** The material in a fresh Buffer the caller zeroes; INTEGRITY_FAILURE if the blob is not the one sealed for this request. */
export function openImportMaterial(seal: KeychainSeal, binding: ImportBinding, stored: SealedImport): Buffer {
  const unsealed = seal.requireUnsealed();
  const failure = (why: string, cause?: unknown): KeychainError =>
    new KeychainError('INTEGRITY_FAILURE', `the sealed material of key import request ${binding.requestId} failed authentication (${why}): it was altered or moved from another request; nothing was registered`, {
      cause,
      details: { requestId: binding.requestId },
    });
  if (!Number.isSafeInteger(stored.sealVersion) || typeof stored.sealed !== 'string') throw failure('malformed');
  return openWithAad(seal.sealingKey(unsealed, stored.sealVersion), aad(unsealed.keychainId, binding, stored.sealVersion), Buffer.from(stored.sealed, 'base64'), failure);
}
