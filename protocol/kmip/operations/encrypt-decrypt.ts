/**
 * Encrypt and Decrypt (KMIP 2.1 §6.1.18, §6.1.13; 1.4 §4.29, §4.30) through
 * the native Encrypt and Decrypt in their raw modes (docs/protocol.md §6.1):
 * the Unique Identifier is the instance, the Cryptographic Parameters choose
 * the mode (cryptographic-parameters.ts; the key's own when the request's
 * leave it open, key-cipher-defaults.ts), and the grants, usage mask,
 * instance state, invocation count, IV and ECB rules are the native ones.
 *
 * IVs: without an IV/Counter/Nonce, or with Random IV true, the appliance
 * draws the IV and answers it; an IV the client gives is passed on, and the
 * native Encrypt takes it only from a client that also holds `get` on the
 * key (a chosen IV decrypts other ciphertexts under the key); ECB takes
 * none, and its encryption needs `get` too. Decrypt needs the IV (Invalid
 * Message without it, as the OASIS test cases expect), except under ECB.
 * A refusal by the instance's usage dates is Permission Denied in 1.x
 * (usage-date-refusal.ts).
 */
import type { RawMode } from '../../../domain/vocabulary/cipher-modes';
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { readCipherFields, readStreaming, refuseStreaming } from './cryptographic-parameters';
import { streamedPart } from './encrypt-stream';
import { instanceNamed } from './instance-identifier';
import { usageDateRefusal } from './usage-date-refusal';
import { cipherForRequest } from './key-cipher-defaults';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { bufferView, bytesItem, PayloadReader, responsePayload, textItem } from './payload';

interface RawSealed {
  readonly instance: string;
  readonly ciphertext: Buffer;
  /** Absent under ECB. */
  readonly iv?: Buffer;
  readonly tag?: Buffer;
}

const AEAD: ReadonlySet<RawMode> = new Set(['AES-GCM', 'CHACHA20-POLY1305']);

/**
 * The Authenticated Encryption Tag and Additional Data came with KMIP 1.4:
 * a 1.0–1.3 reply cannot carry the tag (PyKMIP, rightly, fails to read a
 * 1.2 Encrypt response that has one), so an AEAD mode is refused there.
 */
function refuseAeadBefore14(mode: RawMode, version: ProtocolVersion): void {
  if (AEAD.has(mode) && version.major === 1 && version.minor < 4) {
    throw new KmipOperationError('FeatureNotSupported', `${mode} needs the Authenticated Encryption Tag, which KMIP 1.4 added: ask in KMIP 1.4 or later, or use Block Cipher Mode CBC with Padding Method PKCS5`);
  }
}


export const encrypt: KmipOperation = {
  operation: 'Encrypt',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    const given = readCipherFields(reader.structure('CryptographicParameters'));
    const data = reader.requiredBytes('Data'); // required: a part of a stream carries its part
    const iv = reader.bytes('IVCounterNonce');
    const aad = reader.bytes('AuthenticatedEncryptionAdditionalData');
    const streaming = readStreaming(reader);
    reader.rejectOthers();
    const choice = await cipherForRequest(given, instance, aad !== undefined, ctx);
    if (!streaming.whole) return streamedPart(instance, data, iv, aad, choice, streaming, ctx);
    refuseAeadBefore14(choice.mode, ctx.version);
    if (choice.randomIv === true && iv !== undefined) {
      throw new KmipOperationError('InvalidField', 'Random IV is true and an IV Counter Nonce is given: ask for one or give one');
    }
    if (aad !== undefined && !AEAD.has(choice.mode)) throw new KmipOperationError('InvalidField', `${choice.mode} takes no Authenticated Encryption Additional Data`);
    const sealed = (await ctx.call('Encrypt', {
      instance,
      plaintext: bufferView(data),
      mode: choice.mode,
      iv: bufferView(iv),
      aad: bufferView(aad),
      tagLength: choice.tagLength,
      initialCounter: choice.initialCounter,
    }).catch((err: unknown) => Promise.reject(usageDateRefusal(err, ctx.version.major)))) as RawSealed;
    return responsePayload([
      textItem('UniqueIdentifier', sealed.instance),
      bytesItem('Data', sealed.ciphertext),
      // KMIP answers the IV only when the server chose it.
      iv === undefined && sealed.iv !== undefined ? bytesItem('IVCounterNonce', sealed.iv) : undefined,
      sealed.tag === undefined ? undefined : bytesItem('AuthenticatedEncryptionTag', sealed.tag),
    ]);
  },
};

export const decrypt: KmipOperation = {
  operation: 'Decrypt',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    const given = readCipherFields(reader.structure('CryptographicParameters'));
    const data = reader.requiredBytes('Data'); // required: no streaming, every request carries all of it
    const iv = reader.bytes('IVCounterNonce');
    const aad = reader.bytes('AuthenticatedEncryptionAdditionalData');
    const tag = reader.bytes('AuthenticatedEncryptionTag');
    refuseStreaming(reader, 'a streamed Decrypt would hand out plaintext before its tag is checked (NIST SP 800-38D §5.2.2 releases none when the tag fails): send all the Data in one request');
    reader.rejectOthers();
    const choice = await cipherForRequest(given, instance, aad !== undefined || tag !== undefined, ctx);
    refuseAeadBefore14(choice.mode, ctx.version);
    if (iv === undefined && !choice.mode.startsWith('AES-ECB')) throw new KmipOperationError('InvalidMessage', `${choice.mode} decryption needs the IV Counter Nonce its encryption used`);
    if (AEAD.has(choice.mode) && tag === undefined) throw new KmipOperationError('InvalidMessage', `${choice.mode} decryption needs the Authenticated Encryption Tag`);
    if (!AEAD.has(choice.mode) && (aad !== undefined || tag !== undefined)) {
      throw new KmipOperationError('InvalidField', `${choice.mode} takes no Authenticated Encryption Additional Data or Tag`);
    }
    if (tag !== undefined && choice.tagLength !== undefined && tag.length !== choice.tagLength) {
      throw new KmipOperationError('InvalidField', `the Authenticated Encryption Tag is ${tag.length} bytes, not the Tag Length ${choice.tagLength}`);
    }
    const opened = (await ctx.call('Decrypt', {
      instance,
      ciphertext: bufferView(data),
      mode: choice.mode,
      iv: bufferView(iv),
      tag: bufferView(tag),
      aad: bufferView(aad),
      initialCounter: choice.initialCounter,
    }).catch((err: unknown) => Promise.reject(usageDateRefusal(err, ctx.version.major)))) as { instance: string; plaintext: Buffer };
    return responsePayload([textItem('UniqueIdentifier', opened.instance), bytesItem('Data', opened.plaintext)]) as TtlvNode;
  },
};
