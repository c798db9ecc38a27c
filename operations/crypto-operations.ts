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

export const encrypt: Operation = {
  name: 'Encrypt',
  access: 'key',
  run: (args, ctx) =>
    zeroAfter([args.plaintext as Buffer], () =>
      ctx.services.crypto.encrypt(authorizeName(ctx, 'encrypt', args.name as string), args.plaintext as Buffer, args.aad as Buffer | undefined),
    ),
};

export const decrypt: Operation = {
  name: 'Decrypt',
  access: 'key',
  run: (args, ctx) => ctx.services.crypto.decrypt(authorizeName(ctx, 'decrypt', args.name as string), args.ciphertext as Buffer, args.aad as Buffer | undefined),
};

export const generateDataKey: Operation = {
  name: 'GenerateDataKey',
  access: 'key',
  run: (args, ctx) => {
    const bits = (args.algorithm as string | undefined) === 'AES-128' ? 128 : 256;
    return ctx.services.crypto.generateDataKey(authorizeName(ctx, 'generate-data-key', args.name as string), bits, args.aad as Buffer | undefined);
  },
};

export const decryptDataKey: Operation = {
  name: 'DecryptDataKey',
  access: 'key',
  run: (args, ctx) =>
    ctx.services.crypto.decryptDataKey(authorizeName(ctx, 'decrypt-data-key', args.name as string), args.wrapped as Buffer, args.aad as Buffer | undefined),
};

export const mac: Operation = {
  name: 'MAC',
  access: 'key',
  run: (args, ctx) => ctx.services.crypto.mac(authorizeName(ctx, 'mac', args.name as string), args.data as Buffer),
};

export const macVerify: Operation = {
  name: 'MACVerify',
  access: 'key',
  run: (args, ctx) =>
    ctx.services.crypto.macVerify(authorizeName(ctx, 'mac', args.name as string), args.data as Buffer, args.mac as Buffer, args.instance as string | undefined),
};
