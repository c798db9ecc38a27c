/**
 * Export (docs/protocol.md §6.5): one instance's material, wrapped under a
 * key the requester names, given to the requester alone once M other
 * officers approved it: dual-control class `key-export`, the class of an
 * officer's clear Get, with its quorum. A wrapped export is no weaker than
 * a clear one to whoever holds the unwrapping key (the requester holds the
 * RSA private key; an AES wrapping key's material may be elsewhere), so a
 * separate class with a smaller quorum would be a way around that one.
 *
 * Who may ask: a client holding `get` on the key (it could Get it in the
 * clear; the export still waits for the quorum), or an officer (who holds no
 * `get`: the approval is the consent, as for an officer's Get). Under an
 * appliance AES key the requester also needs `encrypt` on that wrapping key:
 * the wrap is an encryption under it (the key's `wrap-key` usage), and it
 * gives nothing of the wrapping key's bytes, so `get` would ask too much; an
 * app that may not encrypt under a key must not make it carry material.
 *
 * What the approvers see and what the approval binds (the digest covers the
 * stored arguments and the binding): the exported key's id, canonical name
 * and instance (approvalBinding, as for Get and Destroy); for RSA the SHA-256
 * fingerprint of the public key's SubjectPublicKeyInfo (`wrapFingerprint`,
 * beside the PEM); for AES the wrapping key's id, canonical name and
 * instance (`wrapBinding`). At collection both references are resolved
 * again: an alias re-pointed, a key replaced, either side, is
 * APPROVAL_TARGET_CHANGED and nothing is exported.
 *
 * The wrap runs in node:crypto on the material the keychain opened
 * (domain/keys/key-wrapping.ts says why not in the HSM); the clear material
 * is zeroed before the answer leaves; the wrapped bytes go to the requester
 * in the collect answer only (never stored: approval-view storableResult).
 */
import { AccessError, ApprovalError, KeychainError, ValidationError } from '../common/errors';
import { wipe } from '../common/secret';
import { parseAlgorithm } from '../domain/algorithms';
import { ApprovalBinding } from '../domain/approvals/approval-binding';
import { KeyRef } from '../domain/keychain';
import { keyCheckValue } from '../domain/keys/key-check-value';
import { parseRsaWrappingKey, rsaOaepWrap } from '../domain/keys/key-wrapping';
import { WrappingKeys } from '../domain/keys/wrapping-keys';
import { ArgsOf, validateArgs } from '../protocol/op-schemas';
import { assertStillBound, resolveBinding } from './approval-binding';
import { authorizeRef, KeyRefArgs, OperationContext } from './context';
import { ApprovalArgs, Operation, StoredRequest } from './operation';

type ExportArgs = ArgsOf<'Export'>;

/** The wrapping key's reference, for AES-KWP; null for RSA. Refuses fields of the other method. */
export function wrapRefOf(args: ExportArgs): KeyRefArgs | null {
  const misplaced = (field: string, method: string): ValidationError => new ValidationError(`${field} does not go with wrapMethod ${method}`, { details: { field } });
  if (args.wrapMethod === 'RSA-OAEP-SHA256') {
    if (args.wrapKey !== undefined) throw misplaced('wrapKey', args.wrapMethod);
    if (args.wrapInstance !== undefined) throw misplaced('wrapInstance', args.wrapMethod);
    if (args.wrapPublicKey === undefined) throw new ValidationError('wrapMethod RSA-OAEP-SHA256 needs wrapPublicKey (an RSA public key, SubjectPublicKeyInfo PEM)', { details: { field: 'wrapPublicKey' } });
    return null;
  }
  if (args.wrapPublicKey !== undefined) throw misplaced('wrapPublicKey', args.wrapMethod);
  if (args.wrapKey !== undefined) return { name: args.wrapKey, instance: args.wrapInstance };
  if (args.wrapInstance !== undefined) return { instance: args.wrapInstance };
  throw new ValidationError('wrapMethod AES-KWP needs wrapKey or wrapInstance: the appliance AES key to wrap under', { details: { field: 'wrapKey' } });
}

/** The wrapping key authorised for `encrypt` without recording it as the operation's key (the event names the exported key). */
function authorizeWrappingKey(ctx: OperationContext, ref: KeyRefArgs): KeyRef {
  return authorizeRef({ ...ctx, touched: undefined }, 'encrypt', ref);
}

/** `get` on the exported key, or an officer (whose consent is the quorum's, as for Get). */
function authorizeExported(ctx: OperationContext, args: ExportArgs): void {
  try {
    authorizeRef(ctx, 'get', args);
  } catch (err) {
    if ((err as { code?: string }).code !== 'PERMISSION_DENIED' || ctx.identity.role !== 'officer') throw err;
    resolveBinding(ctx, args); // KEY_NOT_FOUND / INSTANCE_NOT_FOUND: no request for nothing
  }
}

/** Every check that needs no approval, so that nothing is stored that could only fail. */
function checkRequest(args: ExportArgs, ctx: OperationContext): 'key-export' {
  // Always dual-controlled: the local operator is told so (DUAL_CONTROL_LOCAL_MODE), not which grant it lacks.
  if (ctx.identity.local) return 'key-export';
  const wrapRef = wrapRefOf(args);
  if (wrapRef === null) parseRsaWrappingKey(args.wrapPublicKey as string);
  else new WrappingKeys(ctx.services.keychain, ctx.services.clock).check(authorizeWrappingKey(ctx, wrapRef), 'wrap');
  authorizeExported(ctx, args);
  return 'key-export';
}

function tampered(request: StoredRequest, what: string): KeychainError {
  return new KeychainError('INTEGRITY_FAILURE', `export request ${request.id}: ${what}; nothing was exported`, { details: { requestId: request.id } });
}

function parseWrapBinding(value: unknown, request: StoredRequest): ApprovalBinding {
  const b = value as Partial<ApprovalBinding> | null;
  if (typeof b?.keyId !== 'string' || typeof b.name !== 'string' || typeof b.instance !== 'string') throw tampered(request, 'its wrapping key binding is missing or malformed');
  return { keyId: b.keyId, name: b.name, instance: b.instance };
}

/** The stored form: the arguments, plus what approvers compare (the RSA key's fingerprint, or the AES key's binding). */
export const exportArgs: ApprovalArgs<'Export'> = {
  store(args, _request, ctx) {
    const wrapRef = wrapRefOf(args);
    if (wrapRef === null) return { ...args, wrapFingerprint: parseRsaWrappingKey(args.wrapPublicKey as string).fingerprint };
    return { ...args, wrapBinding: { ...resolveBinding(ctx, wrapRef) } };
  },

  restore(stored, request, ctx) {
    const { wrapFingerprint, wrapBinding, ...rest } = stored;
    const args = validateArgs('Export', rest);
    const wrapRef = wrapRefOf(args);
    if (wrapRef === null) {
      if (typeof wrapFingerprint !== 'string' || parseRsaWrappingKey(args.wrapPublicKey as string).fingerprint !== wrapFingerprint) {
        throw tampered(request, 'the public key does not match the fingerprint approved');
      }
      return args;
    }
    const bound = parseWrapBinding(wrapBinding, request);
    try {
      assertStillBound(ctx, request.id, wrapRef, bound);
    } catch (err) {
      if ((err as { code?: string }).code !== 'APPROVAL_TARGET_CHANGED') throw err;
      throw new ApprovalError(
        'APPROVAL_TARGET_CHANGED',
        `request "${request.id}" was approved to wrap under ${bound.name} instance ${bound.instance}, and its wrapping key reference no longer resolves to that; nothing was exported`,
        { details: { id: request.id, wrapKey: bound.name, wrapInstance: bound.instance } },
      );
    }
    // From here on the bound wrapping key, never the alias typed.
    return { ...args, wrapKey: bound.name, wrapInstance: bound.instance };
  },
};

export const exportKey: Operation<'Export'> = {
  name: 'Export',
  access: 'key',
  dualControl: checkRequest,
  approvalBinding: (args, ctx) => resolveBinding(ctx, args),
  approvalArgs: exportArgs,
  run: (args, ctx) => {
    // The gate turns every Export into a request; only the approved one, collected by its requester, runs.
    if (ctx.approval?.dualControlClass !== 'key-export') throw new AccessError('PERMISSION_DENIED', 'Export runs only as an approved key export, collected by its requester');
    const wrapRef = wrapRefOf(args);
    const wrappingRef = wrapRef === null ? null : authorizeWrappingKey(ctx, wrapRef);
    const rsa = wrapRef === null ? parseRsaWrappingKey(args.wrapPublicKey as string) : null;
    const { keychain, clock } = ctx.services;
    const retrieved = keychain.getKey(authorizeRef(ctx, 'get', args));
    const material = retrieved.material;
    try {
      const kcv = keyCheckValue(parseAlgorithm(retrieved.key.algorithm), material);
      const common = { key: retrieved.key, instance: retrieved.instance, wrapMethod: args.wrapMethod, materialLength: material.length, kcv: kcv.value, kcvKind: kcv.kind };
      if (rsa !== null) return { ...common, wrapped: rsaOaepWrap(rsa, material), wrappingKey: { fingerprint: rsa.fingerprint, bits: rsa.bits } };
      const done = new WrappingKeys(keychain, clock).wrap(wrappingRef as KeyRef, material);
      return { ...common, wrapped: done.wrapped, wrappingKey: { name: (wrappingRef as KeyRef).fullName, instance: done.instance } };
    } finally {
      wipe(material);
    }
  },
};
