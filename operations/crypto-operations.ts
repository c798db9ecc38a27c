/**
 * Encrypt, Decrypt, GenerateDataKey, DecryptDataKey, MAC and MACVerify
 * (docs/protocol.md §6, §6.1). Plaintext Buffers in results are zeroed by the
 * connection once the response is encoded; plaintext arguments are zeroed here.
 */
import { authorizeName } from './context';
import { Operation } from './operation';

function zeroAfter<T>(buffers: Array<Buffer | undefined>, fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const b of buffers) b?.fill(0);
  }
}

export const encrypt: Operation<'Encrypt'> = {
  name: 'Encrypt',
  access: 'key',
  // The result names the key it used (an alias resolved, as AWS KMS answers its KeyId): the name to decrypt under after the alias moves.
  run: (args, ctx) =>
    zeroAfter([args.plaintext], () => {
      const key = authorizeName(ctx, 'encrypt', args.name);
      return { ...ctx.services.crypto.encrypt(key, args.plaintext, args.aad), key };
    }),
};

export const decrypt: Operation<'Decrypt'> = {
  name: 'Decrypt',
  access: 'key',
  run: (args, ctx) => ctx.services.crypto.decrypt(authorizeName(ctx, 'decrypt', args.name), args.ciphertext, args.aad),
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
  run: (args, ctx) => ctx.services.crypto.mac(authorizeName(ctx, 'mac', args.name), args.data),
};

export const macVerify: Operation<'MACVerify'> = {
  name: 'MACVerify',
  access: 'key',
  run: (args, ctx) =>
    ctx.services.crypto.macVerify(authorizeName(ctx, 'mac', args.name), args.data, args.mac, args.instance),
};
