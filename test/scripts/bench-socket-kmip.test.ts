/**
 * The KMIP side of the socket benchmark (scripts/bench-socket-kmip-bytes.ts):
 * the stream splitter cuts back-to-back messages however the bytes arrive,
 * the Result Status is read from a reply without decoding it (and agrees
 * with the decoder), and the echo ceiling's reply has exactly the size asked.
 */
import { decodeResponse } from '../../protocol/kmip/kmip-message-decoder';
import { encodeResponse } from '../../protocol/kmip/kmip-message-encoder';
import { ResponseMessage } from '../../protocol/kmip/kmip-message';
import { decodeTtlv } from '../../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../../protocol/kmip/ttlv-encoder';
import { bytesItem, responsePayload } from '../../protocol/kmip/operations/payload';
import { firstResultStatus, KMIP_SUCCESS, kmipEchoTemplate, kmipGetRequests, TtlvStreamSplitter } from '../../scripts/bench-socket-kmip-bytes';

const reply = (item: ResponseMessage['batchItems'][number]): Buffer =>
  encodeTtlv(encodeResponse({ header: { protocolVersion: { major: 2, minor: 1 }, timeStamp: 1n, batchCount: 1 }, batchItems: [item] }));

describe('the KMIP benchmark wire', () => {
  it('cuts back-to-back messages delivered in pieces of any size', () => {
    const messages = kmipGetRequests(['a', 'instance-b', 'c'.repeat(40)]);
    const stream = Buffer.concat(messages);
    for (const piece of [1, 3, 8, 13, stream.length]) {
      const splitter = new TtlvStreamSplitter();
      const out: Buffer[] = [];
      for (let at = 0; at < stream.length; at += piece) out.push(...splitter.push(stream.subarray(at, at + piece)));
      expect(out).toEqual(messages);
    }
  });

  it('reads the first item\'s Result Status as the decoder does, without decoding', () => {
    const success = reply({ operation: 'Get', uniqueBatchItemId: new Uint8Array([1, 2, 3]), resultStatus: 'Success', responsePayload: responsePayload([bytesItem('KeyMaterial', Buffer.alloc(32))]) });
    const failed = reply({ operation: 'Get', resultStatus: 'OperationFailed', resultReason: 'PermissionDenied', resultMessage: 'no' });
    expect(firstResultStatus(success)).toBe(KMIP_SUCCESS);
    expect(decodeResponse(decodeTtlv(success)).batchItems[0].resultStatus).toBe('Success');
    expect(firstResultStatus(failed)).not.toBe(KMIP_SUCCESS);
    expect(firstResultStatus(failed)).not.toBeNull();
    expect(firstResultStatus(Buffer.from([0x42, 0, 0x7b, 1, 0, 0, 0, 0]))).toBeNull();
  });

  it('makes an echo reply of exactly the size asked, a successful Response Message', () => {
    for (const size of [kmipEchoTemplate(200).length, 296, 1024]) {
      const template = kmipEchoTemplate(size);
      expect(template.length).toBe(size);
      expect(firstResultStatus(template)).toBe(KMIP_SUCCESS);
      expect(decodeResponse(decodeTtlv(template)).batchItems[0].resultStatus).toBe('Success');
    }
    expect(() => kmipEchoTemplate(300)).toThrow(RangeError); // not a multiple of 8
  });
});
