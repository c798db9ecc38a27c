/**
 * The message layer against the OASIS KMIP test cases: every request message
 * of every file decodes into the typed model and re-encodes to the same tree,
 * and every response message likewise. Trees are compared through their
 * canonical TTLV bytes (one-to-one, docs/kmip.md §1.3).
 */
import { basename } from 'node:path';
import { decodeRequest, decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { encodeRequest, encodeResponse } from '../../../protocol/kmip/kmip-message-encoder';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { loadTestCases, TestCaseFile } from './oasis-test-cases';

/** Half of the 2,098 messages of oasis-round-trip.test.ts each. */
const EXPECTED_REQUESTS = 1049;
const EXPECTED_RESPONSES = 1049;

describe('KMIP messages of the OASIS test cases', () => {
  let cases: TestCaseFile[];
  beforeAll(() => {
    cases = loadTestCases();
  });

  it(`decodes all ${EXPECTED_REQUESTS} request messages and re-encodes each to the same tree`, () => {
    const mismatches: string[] = [];
    let decoded = 0;
    for (const file of cases) {
      file.messages.forEach((message, i) => {
        if (i % 2 !== 0) return;
        const request = decodeRequest(message);
        decoded++;
        if (!encodeTtlv(encodeRequest(request)).equals(encodeTtlv(message))) mismatches.push(`${basename(file.path)} #${i}`);
      });
    }
    expect(mismatches).toEqual([]);
    expect(decoded).toBe(EXPECTED_REQUESTS);
  });

  it(`decodes all ${EXPECTED_RESPONSES} response messages and re-encodes each to the same tree`, () => {
    const mismatches: string[] = [];
    let decoded = 0;
    for (const file of cases) {
      file.messages.forEach((message, i) => {
        if (i % 2 !== 1) return;
        const response = decodeResponse(message);
        decoded++;
        if (!encodeTtlv(encodeResponse(response)).equals(encodeTtlv(message))) mismatches.push(`${basename(file.path)} #${i}`);
      });
    }
    expect(mismatches).toEqual([]);
    expect(decoded).toBe(EXPECTED_RESPONSES);
  });

  it('reads the header and batch fields the test cases use into the typed model', () => {
    const undo = cases.find((file) => basename(file.path) === 'BL-M-2-21.xml')!;
    const at = undo.messages.findIndex((message, i) => i % 2 === 0 && decodeRequest(message).header.batchCount === 3);
    const request = decodeRequest(undo.messages[at]);
    expect(request.header.protocolVersion).toEqual({ major: 2, minor: 1 });
    expect(request.header.batchErrorContinuationOption).toBe('Undo');
    expect(request.header.batchCount).toBe(3);
    expect(request.batchItems.map((item) => item.operation)).toEqual(['Activate', 'Check', 'Check']);
    expect(Buffer.from(request.batchItems[0].uniqueBatchItemId!).toString('hex')).toBe('ef97f5f50b3166dd');
    const response = decodeResponse(undo.messages[at + 1]);
    expect(response.header.serverCorrelationValue).toBe('55EBE18E-02018A04-6');
    expect(response.batchItems.map((item) => item.resultStatus)).toEqual(['OperationUndone', 'OperationUndone', 'OperationFailed']);
    expect(response.batchItems[2].resultReason).toBe('IncompatibleCryptographicUsageMask');
    expect(response.batchItems[2].resultMessage).toBe('Check Failed');

    const tooLarge = cases.find((file) => basename(file.path) === 'MSGENC-XML-M-1-21.xml')!;
    expect(decodeRequest(tooLarge.messages[0]).header).toMatchObject({ maximumResponseSize: 256, clientCorrelationValue: 'MSGENC-XML-M-1-21 step=0' });
    expect(decodeResponse(tooLarge.messages[1]).batchItems[0]).toEqual({ operation: 'Query', resultStatus: 'OperationFailed', resultReason: 'ResponseTooLarge', resultMessage: 'TOO_LARGE' });
  });
});
