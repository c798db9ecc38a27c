/**
 * Key import (dual-control class `key-import`): Register with material of
 * an algorithm the appliance generates (AES, HMAC, ChaCha20) is no single
 * client's or officer's act. The requester's `register` permission on the
 * name is checked first; the request is then stored for M other officers'
 * approval with its material sealed under the keychain key, bound to the
 * request (domain/keys/import-seal.ts), beside the material's length and key
 * check value (domain/keys/key-check-value.ts), which approvers compare with
 * the one the key custodian gives them out of band. At the quorum the
 * executor opens the seal, checks the KCV again, and Register runs as the
 * requester; the service then erases the sealed blob from the record.
 *
 * A wrapped import (`unwrapKey?`/`unwrapInstance?`, docs/protocol.md §6.5):
 * `material` is wrapped under an appliance AES key (RFC 5649), as another
 * key manager or appliance exports it. It is always a key import, whatever
 * the algorithm (a SECRET too): the requester needs `decrypt` on the
 * wrapping key (the unwrap gives what that key protects, as Decrypt does:
 * a material permission), the key's usage must allow `unwrap-key`. The
 * material is unwrapped when the request is stored (a blob that does not
 * unwrap is UNWRAP_FAILED and nothing is stored), then sealed and shown
 * exactly as a clear import's: its length and key check value, beside the
 * wrapping key and instance it came under (`unwrappedBy`). The wrapping key
 * is not used again: the approval binds the sealed material and its KCV.
 *
 * A clear import is a key ceremony, not an everyday path: with
 * `clear_key_import = off` (the default) it is CLEAR_IMPORT_DISABLED before
 * anything is stored, here where every wire and the CLI pass, so that the
 * bytes of a generated algorithm's key only come in wrapped. SECRET data
 * (caller material is what it is) and wrapped imports are not affected.
 */
import { AccessError, KeychainError, ValidationError } from '../common/errors';
import { wipe } from '../common/secret';
import { Algorithm, parseAlgorithm } from '../domain/algorithms';
import { SEALED_ARGS_FIELD } from '../domain/approvals/sealed-args';
import { KeySpec } from '../domain/keychain';
import { ImportBinding, SealedImport } from '../domain/keys/import-seal';
import { keyCheckValue } from '../domain/keys/key-check-value';
import { checkMaterialLength } from '../domain/keys/key-spec';
import { acceptsCallerMaterial } from '../domain/policy/permissions';
import { ArgsOf, validateArgs } from '../protocol/op-schemas';
import { authorizeName, authorizeRef, canonicalName, KeyRefArgs, OperationContext } from './context';
import { WrappingKeys } from '../domain/keys/wrapping-keys';
import { KeyRef } from '../domain/keychain';
import { ApprovalArgs, StoredRequest } from './operation';
import { DualControlClass } from '../domain/vocabulary/dual-control-classes';

/**
 * Register's dual-control class: `key-import` for material of a generated
 * algorithm, after the checks that need no approval (permission, the whole
 * key spec, the material's length, a name already taken), so that nothing
 * is stored that could only fail; null (registers at once) for SECRET.
 */
export function importClass(spec: () => KeySpec, args: ArgsOf<'Register'>, ctx: OperationContext): DualControlClass | null {
  const algorithm = parseAlgorithm(args.algorithm ?? 'SECRET');
  const unwrapRef = unwrapRefOf(args);
  if (unwrapRef === null && acceptsCallerMaterial(algorithm)) return null;
  // First: with clear imports off nothing else about the request matters, and nothing is stored.
  if (unwrapRef === null) refuseClearImportWhenOff(algorithm, ctx, 'nothing was stored');
  // A wrapped import is always dual-controlled: the local operator is told so (DUAL_CONTROL_LOCAL_MODE), not which grant it lacks.
  if (unwrapRef !== null && ctx.identity.local) return 'key-import';
  authorizeName(ctx, 'register', args.name);
  const checked = spec();
  // A wrapped blob's length is not the key's: the unwrapped material is checked when the request is stored.
  if (unwrapRef === null) checkMaterialLength(checked.algorithm, args.material);
  else new WrappingKeys(ctx.services.keychain, ctx.services.clock).check(authorizeUnwrappingKey(ctx, unwrapRef), 'unwrap');
  assertNameFree(checked.fullName, ctx);
  return 'key-import';
}

/**
 * CLEAR_IMPORT_DISABLED unless clear_key_import = dual-control (an absent
 * setting is off). The message says the two ways forward, as the error table does.
 */
function refuseClearImportWhenOff(algorithm: Algorithm, ctx: OperationContext, outcome: string): void {
  if (ctx.services.clearKeyImport === 'dual-control') return;
  throw new AccessError(
    'CLEAR_IMPORT_DISABLED',
    `clear ${algorithm} material is not imported here (clear_key_import = off); ${outcome}. Import the key wrapped under an appliance AES key (Register with unwrapKey, \`key register --unwrap-key\`), or have the operator set clear_key_import = dual-control for a key ceremony`,
    { details: { algorithm } },
  );
}

/** The AES key a wrapped import's material is wrapped under; null for clear material. */
export function unwrapRefOf(args: ArgsOf<'Register'>): KeyRefArgs | null {
  if (args.unwrapKey !== undefined) return { name: args.unwrapKey, instance: args.unwrapInstance };
  if (args.unwrapInstance !== undefined) return { instance: args.unwrapInstance };
  return null;
}

/** `decrypt` on the unwrapping key, without recording it as the operation's key (the event names the key registered). */
function authorizeUnwrappingKey(ctx: OperationContext, ref: KeyRefArgs): KeyRef {
  return authorizeRef({ ...ctx, touched: undefined }, 'decrypt', ref);
}

/** The clear material to seal: the argument itself, or a fresh Buffer unwrapped from it (then `unwrappedBy` is set, and the caller zeroes it). */
function clearMaterial(args: ArgsOf<'Register'>, algorithm: Algorithm, ctx: OperationContext): { material: Buffer; unwrappedBy: Record<string, string> | null } {
  const unwrapRef = unwrapRefOf(args);
  if (unwrapRef === null) return { material: args.material, unwrappedBy: null };
  const ref = authorizeUnwrappingKey(ctx, unwrapRef);
  const { material, instance } = new WrappingKeys(ctx.services.keychain, ctx.services.clock).unwrap(ref, args.material);
  try {
    checkMaterialLength(algorithm, material);
  } catch (err) {
    wipe(material);
    throw err;
  }
  return { material, unwrappedBy: { method: 'AES-KWP', key: ref.fullName as string, instance } };
}

function assertNameFree(fullName: string, ctx: OperationContext): void {
  try {
    ctx.services.keychain.resolveName(fullName);
  } catch (err) {
    if ((err as { code?: string }).code === 'KEY_NOT_FOUND') return;
    throw err;
  }
  throw new KeychainError('KEY_EXISTS', `${fullName} already exists: an import registers a new key`, { details: { name: fullName } });
}

/** A wrapped import registers only as its approved request, whose stored form holds the material unwrapped and sealed. */
export function refuseWrappedOutsideImport(args: ArgsOf<'Register'>): void {
  if (unwrapRefOf(args) === null) return;
  throw new ValidationError('a wrapped import (unwrapKey, unwrapInstance) registers only once officers approved it', { details: { field: 'unwrapKey' } });
}

function bindingOf(request: StoredRequest, name: string, algorithm: Algorithm, kcv: string, kcvKind: string): ImportBinding {
  return { requestId: request.id, requester: request.requester, name: canonicalName(name), algorithm, kcv, kcvKind };
}

/** What fails closed: a stored import whose parts do not fit together. */
function tampered(request: StoredRequest, what: string): KeychainError {
  return new KeychainError('INTEGRITY_FAILURE', `key import request ${request.id}: ${what}; nothing was registered`, { details: { requestId: request.id } });
}

/** Register's stored form: its arguments without `material`, plus `materialLength`, `kcv`, `kcvKind` and the sealed material. */
export const importArgs: ApprovalArgs<'Register'> = {
  store(args, request, ctx) {
    const { material: _given, unwrapKey: _key, unwrapInstance: _instance, ...rest } = args;
    const algorithm = parseAlgorithm(args.algorithm ?? 'SECRET');
    const { material, unwrappedBy } = clearMaterial(args, algorithm, ctx);
    try {
      const kcv = keyCheckValue(algorithm, material);
      const sealed = ctx.services.keychain.sealImportMaterial(bindingOf(request, args.name, algorithm, kcv.value, kcv.kind), material);
      const shown = unwrappedBy === null ? {} : { unwrappedBy };
      return { ...rest, ...shown, materialLength: material.length, kcv: kcv.value, kcvKind: kcv.kind, [SEALED_ARGS_FIELD]: { ...sealed } };
    } finally {
      // The unwrapped copy is this hook's; clear material given is the request's (the transport zeroes it).
      if (unwrappedBy !== null) wipe(material);
    }
  },

  restore(stored, request, ctx) {
    const { materialLength, kcv, kcvKind, [SEALED_ARGS_FIELD]: sealed, unwrappedBy, ...rest } = stored;
    if (typeof kcv !== 'string' || typeof kcvKind !== 'string' || typeof materialLength !== 'number' || typeof sealed !== 'object' || sealed === null) {
      throw tampered(request, 'its sealed material or key check value is missing (it ended, or the record was altered)');
    }
    if (typeof rest.name !== 'string' || (rest.algorithm !== undefined && typeof rest.algorithm !== 'string')) throw new ValidationError('stored Register request names no key');
    const algorithm = parseAlgorithm((rest.algorithm as string | undefined) ?? 'SECRET');
    // A clear import approved after the operator turned clear imports off does not register: the setting is in force when the key would come in.
    if (unwrappedBy === undefined) refuseClearImportWhenOff(algorithm, ctx, `request ${request.id} registers nothing`);
    const material = ctx.services.keychain.openImportMaterial(bindingOf(request, rest.name, algorithm, kcv, kcvKind), sealed as SealedImport);
    try {
      const check = keyCheckValue(algorithm, material);
      if (check.value !== kcv || check.kind !== kcvKind || material.length !== materialLength) throw tampered(request, 'the opened material does not match the key check value approved');
      // validateArgs copies the Buffer: Register's run zeroes that copy, this one is zeroed here.
      return validateArgs('Register', { ...rest, material });
    } finally {
      wipe(material);
    }
  },
};
