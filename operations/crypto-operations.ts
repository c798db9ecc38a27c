/**
 * Encrypt, Decrypt, GenerateDataKey, DecryptDataKey, MAC, MACVerify and
 * RandomBytes (docs/protocol.md §6, §6.1). Plaintext Buffers in results
 * are zeroed by the connection once the response is encoded; plaintext
 * arguments are zeroed here.
 */
import { AccessError, ValidationError } from '../common/errors';
import { isBareBlock } from '../domain/raw-ciphers';
import { authorizeName, authorizeRef, OperationContext } from './context';
import { Operation } from './operation';
import { isStreamed, streamedEncrypt } from './gcm-stream-operations';

function zeroAfter<T>(buffers: Array<Buffer | undefined>, fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const b of buffers) b?.fill(0);
  }
}

/** The raw-mode fields, refused without `mode`: the envelope chooses its own IV and tag. */
function refuseWithoutMode(args: { readonly iv?: Buffer; readonly tag?: Buffer; readonly tagLength?: number; readonly initialCounter?: number }): void {
  const given = (['iv', 'tag', 'tagLength', 'initialCounter'] as const).filter((field) => (args as Record<string, unknown>)[field] !== undefined);
  if (given.length > 0) throw new ValidationError(`${given.join(', ')} go with a raw mode (mode: AES-GCM, AES-CBC-PKCS5, CHACHA20-POLY1305, AES-ECB, AES-ECB-PKCS5 or CHACHA20); the envelope chooses its own`);
}

/**
 * An encryption under an IV the caller chose is as strong as holding the
 * key for that IV: under GCM or ChaCha20 (with or without Poly1305) it
 * gives the keystream that decrypts every other ciphertext made with that
 * IV (the appliance's envelopes included), and a repeated IV gives away the
 * authentication key; under CBC one block is the bare AES permutation,
 * which decrypts any GCM ciphertext under the key block by block. ECB *is*
 * the bare AES permutation, whatever the IV: AES-ECB of counter blocks is
 * GCM's (and CTR's) keystream, and of the zero block GCM's hash key, so an
 * ECB encryption decrypts and forges anything the key protects. So both
 * are allowed only to a client that may get the key's material anyway
 * (`get`, itself a dual-controlled grant): to anyone else `encrypt` would
 * mean `decrypt`. (ECB *decryption* needs only `decrypt`: the inverse
 * permutation opens only what CBC or ECB sealed, which `decrypt` opens
 * anyway, and yields no GCM keystream or hash key.)
 */
function requireRawBlockRight(ctx: OperationContext, fullName: string, what: 'iv' | 'ecb'): void {
  if (ctx.services.policy.allows(ctx.identity, 'get', fullName)) return;
  const message = what === 'iv'
    ? `client "${ctx.identity.name}" may not choose the IV of an encryption under ${fullName}: that needs the get permission on the key as well as encrypt (a chosen IV can decrypt other ciphertexts under it); leave iv out and the appliance draws one`
    : `client "${ctx.identity.name}" may not encrypt under ${fullName} in ECB: that needs the get permission on the key as well as encrypt (ECB is the bare block cipher, which decrypts GCM and CBC ciphertexts under the key and forges GCM tags); use AES-GCM or AES-CBC-PKCS5`;
  throw new AccessError('PERMISSION_DENIED', message, { details: { permission: 'get' } });
}

export const encrypt: Operation<'Encrypt'> = {
  name: 'Encrypt',
  access: 'key',
  // The result names the key it used (an alias resolved, as AWS KMS answers its KeyId): the name to decrypt under after the alias moves.
  run: (args, ctx) =>
    zeroAfter([args.plaintext], () => {
      if (isStreamed(args)) return streamedEncrypt(args, ctx, (key) => requireRawBlockRight(ctx, key, 'iv'));
      const ref = authorizeRef(ctx, 'encrypt', args);
      const key = ref.fullName as string;
      if (args.mode === undefined) {
        refuseWithoutMode(args);
        return { ...ctx.services.crypto.encrypt(ref, args.plaintext, args.aad), key };
      }
      if (isBareBlock(args.mode)) requireRawBlockRight(ctx, key, 'ecb');
      else if (args.iv !== undefined) requireRawBlockRight(ctx, key, 'iv');
      const options = { iv: args.iv, aad: args.aad, tagLength: args.tagLength, initialCounter: args.initialCounter };
      return { ...ctx.services.crypto.encryptRaw(ref, args.mode, args.plaintext, options), key };
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
    return ctx.services.crypto.decryptRaw(ref, args.mode, args.ciphertext, { iv: args.iv, tag: args.tag, aad: args.aad, initialCounter: args.initialCounter });
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
