/**
 * Encrypt, Decrypt, GenerateDataKey, DecryptDataKey, MAC, MACVerify and
 * RandomBytes (docs/protocol.md §6, §6.1). Plaintext Buffers in results
 * are zeroed by the connection once the response is encoded; plaintext
 * arguments are zeroed here.
 */
import { AccessError, ValidationError } from '../common/errors';
import { authorizeName, authorizeRef, OperationContext } from './context';
import { Operation } from './operation';

function zeroAfter<T>(buffers: Array<Buffer | undefined>, fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const b of buffers) b?.fill(0);
  }
}

/** The raw-mode fields, refused without `mode`: the envelope chooses its own IV and tag. */
function refuseWithoutMode(args: { readonly iv?: Buffer; readonly tag?: Buffer; readonly tagLength?: number }): void {
  const given = (['iv', 'tag', 'tagLength'] as const).filter((field) => (args as Record<string, unknown>)[field] !== undefined);
  if (given.length > 0) throw new ValidationError(`${given.join(', ')} go with a raw mode (mode: AES-GCM, AES-CBC-PKCS5 or CHACHA20-POLY1305); the envelope chooses its own`);
}

/**
 * An encryption under an IV the caller chose is as strong as holding the
 * key for that IV: under GCM or ChaCha20-Poly1305 it gives the keystream
 * that decrypts every other ciphertext made with that IV (the appliance's
 * envelopes included), and a repeated IV gives away the authentication key;
 * under CBC one block is the bare AES permutation, which decrypts any GCM
 * ciphertext under the key block by block. So it is allowed only to a
 * client that may get the key's material anyway (`get`, itself a
 * dual-controlled grant): to anyone else `encrypt` would mean `decrypt`.
 */
function requireChosenIvRight(ctx: OperationContext, fullName: string): void {
  if (ctx.services.policy.allows(ctx.identity, 'get', fullName)) return;
  throw new AccessError('PERMISSION_DENIED', `client "${ctx.identity.name}" may not choose the IV of an encryption under ${fullName}: that needs the get permission on the key as well as encrypt (a chosen IV can decrypt other ciphertexts under it); leave iv out and the appliance draws one`, {
    details: { permission: 'get' },
  });
}

export const encrypt: Operation<'Encrypt'> = {
  name: 'Encrypt',
  access: 'key',
  // The result names the key it used (an alias resolved, as AWS KMS answers its KeyId): the name to decrypt under after the alias moves.
  run: (args, ctx) =>
    zeroAfter([args.plaintext], () => {
      const ref = authorizeRef(ctx, 'encrypt', args);
      const key = ref.fullName as string;
      if (args.mode === undefined) {
        refuseWithoutMode(args);
        return { ...ctx.services.crypto.encrypt(ref, args.plaintext, args.aad), key };
      }
      if (args.iv !== undefined) requireChosenIvRight(ctx, key);
      return { ...ctx.services.crypto.encryptRaw(ref, args.mode, args.plaintext, { iv: args.iv, aad: args.aad, tagLength: args.tagLength }), key };
    }),
};

export const decrypt: Operation<'Decrypt'> = {
  name: 'Decrypt',
  access: 'key',
  run: (args, ctx) => {
    const ref = authorizeRef(ctx, 'decrypt', args);
    if (args.mode === undefined) {
      refuseWithoutMode(args);
      return ctx.services.crypto.decrypt(ref, args.ciphertext, args.aad);
    }
    if (args.iv === undefined) throw new ValidationError(`${args.mode} decryption needs the iv the encryption used`);
    return ctx.services.crypto.decryptRaw(ref, args.mode, args.ciphertext, { iv: args.iv, tag: args.tag, aad: args.aad });
  },
};

export const generateDataKey: Operation<'GenerateDataKey'> = {
  name: 'GenerateDataKey',
  access: 'key',
  run: (args, ctx) => {
    const bits = args.algorithm === 'AES-128' ? 128 : 256;
    return ctx.services.crypto.generateDataKey(authorizeName(ctx, 'generate-data-key', args.name), bits, args.aad);
  },
};

export const decryptDataKey: Operation<'DecryptDataKey'> = {
  name: 'DecryptDataKey',
  access: 'key',
  run: (args, ctx) =>
    ctx.services.crypto.decryptDataKey(authorizeName(ctx, 'decrypt-data-key', args.name), args.wrapped, args.aad),
};

export const mac: Operation<'MAC'> = {
  name: 'MAC',
  access: 'key',
  run: (args, ctx) => ctx.services.crypto.mac(authorizeRef(ctx, 'mac', args), args.data, args.algorithm),
};

export const macVerify: Operation<'MACVerify'> = {
  name: 'MACVerify',
  access: 'key',
  run: (args, ctx) =>
    ctx.services.crypto.macVerify(authorizeRef(ctx, 'mac', args), args.data, args.mac, args.algorithm),
};

/** Random bytes from the server's CSPRNG, for any authenticated client: it reveals nothing of the appliance, and the dispatcher rate-limits and audits it. */
export const randomBytes: Operation<'RandomBytes'> = {
  name: 'RandomBytes',
  access: 'any',
  run: (args, ctx) => ({ bytes: ctx.services.crypto.randomBytes(args.length) }),
};
