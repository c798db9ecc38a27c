/**
 * MAC and MAC Verify (KMIP 2.1 §6.1.29, §6.1.30; 1.4 §4.33, §4.34) through
 * the native MAC and MACVerify: the Unique Identifier is the instance, and
 * an HMAC algorithm named in the Cryptographic Parameters (Cryptographic
 * Algorithm HMAC_SHA256/HMAC_SHA512, or Hashing Algorithm SHA_256/SHA_512)
 * must be the key's own, which the native operation checks. Streaming is
 * refused (cryptographic-parameters.ts).
 */
import { readMacParameters, refuseStreaming } from './cryptographic-parameters';
import { instanceNamed } from './instance-identifier';
import { KmipOperation } from './kmip-operation';
import { bufferView, bytesItem, enumItem, PayloadReader, responsePayload, textItem } from './payload';

export const mac: KmipOperation = {
  operation: 'MAC',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    const algorithm = readMacParameters(reader.structure('CryptographicParameters'));
    const data = bufferView(reader.requiredBytes('Data'));
    refuseStreaming(reader);
    reader.rejectOthers();
    const made = (await ctx.call('MAC', { instance, data, algorithm })) as { instance: string; mac: Buffer };
    return responsePayload([textItem('UniqueIdentifier', made.instance), bytesItem('MACData', made.mac)]);
  },
};

export const macVerify: KmipOperation = {
  operation: 'MACVerify',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const instance = instanceNamed(reader, ctx);
    const algorithm = readMacParameters(reader.structure('CryptographicParameters'));
    const data = bufferView(reader.requiredBytes('Data'));
    const given = bufferView(reader.requiredBytes('MACData'));
    refuseStreaming(reader);
    reader.rejectOthers();
    const checked = (await ctx.call('MACVerify', { instance, data, mac: given, algorithm })) as { instance: string; valid: boolean };
    return responsePayload([textItem('UniqueIdentifier', checked.instance), enumItem('ValidityIndicator', checked.valid ? 'Valid' : 'Invalid')]);
  },
};
