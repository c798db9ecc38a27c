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
 */
import { KeychainError, ValidationError } from '../common/errors';
import { wipe } from '../common/secret';
import { Algorithm, parseAlgorithm } from '../domain/algorithms';
import { SEALED_ARGS_FIELD } from '../domain/approvals/sealed-args';
import { KeySpec } from '../domain/keychain';
import { ImportBinding, SealedImport } from '../domain/keys/import-seal';
import { keyCheckValue } from '../domain/keys/key-check-value';
import { checkMaterialLength } from '../domain/keys/key-spec';
import { acceptsCallerMaterial } from '../domain/policy/permissions';
import { ArgsOf, validateArgs } from '../protocol/op-schemas';
import { authorizeName, canonicalName, OperationContext } from './context';
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
  if (acceptsCallerMaterial(algorithm)) return null;
  authorizeName(ctx, 'register', args.name);
  const checked = spec();
  checkMaterialLength(checked.algorithm, args.material);
  assertNameFree(checked.fullName, ctx);
  return 'key-import';
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
    const { material, ...rest } = args;
    const algorithm = parseAlgorithm(args.algorithm ?? 'SECRET');
    const kcv = keyCheckValue(algorithm, material);
    const sealed = ctx.services.keychain.sealImportMaterial(bindingOf(request, args.name, algorithm, kcv.value, kcv.kind), material);
    return { ...rest, materialLength: material.length, kcv: kcv.value, kcvKind: kcv.kind, [SEALED_ARGS_FIELD]: { ...sealed } };
  },

  restore(stored, request, ctx) {
    const { materialLength, kcv, kcvKind, [SEALED_ARGS_FIELD]: sealed, ...rest } = stored;
    if (typeof kcv !== 'string' || typeof kcvKind !== 'string' || typeof materialLength !== 'number' || typeof sealed !== 'object' || sealed === null) {
      throw tampered(request, 'its sealed material or key check value is missing (it ended, or the record was altered)');
    }
    if (typeof rest.name !== 'string' || (rest.algorithm !== undefined && typeof rest.algorithm !== 'string')) throw new ValidationError('stored Register request names no key');
    const algorithm = parseAlgorithm((rest.algorithm as string | undefined) ?? 'SECRET');
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
