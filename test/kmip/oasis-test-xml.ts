/**
 * Small hand-made OASIS-style cases for the conformance runner's own tests:
 * request and response messages in the XML encoding of the test-case files,
 * built from a few lines of payload, and the same answers as trees (what a
 * server would send).
 */
import { parseKmipXml } from '../../protocol/kmip/kmip-xml';
import { TtlvNode } from '../../protocol/kmip/ttlv';
import { parseCase, OasisCase } from '../../scripts/kmip/oasis/oasis-cases';
import { parseTemplateDocument, TemplateNode } from '../../scripts/kmip/oasis/oasis-template';

const VERSION = '<ProtocolVersion><ProtocolVersionMajor type="Integer" value="2"/><ProtocolVersionMinor type="Integer" value="1"/></ProtocolVersion>';

export function requestXml(operation: string, payload: string, header = ''): string {
  return `<RequestMessage><RequestHeader>${VERSION}${header}<BatchCount type="Integer" value="1"/></RequestHeader>`
    + `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem></RequestMessage>`;
}

/** A response; `result` defaults to Success, `payload` undefined leaves the payload out. */
export function responseXml(operation: string, payload: string | undefined, options: { result?: string; timeStamp?: string; header?: string } = {}): string {
  const result = options.result ?? '<ResultStatus type="Enumeration" value="Success"/>';
  const body = payload === undefined ? '' : `<ResponsePayload>${payload}</ResponsePayload>`;
  return `<ResponseMessage><ResponseHeader>${VERSION}<TimeStamp type="DateTime" value="${options.timeStamp ?? '$NOW'}"/>${options.header ?? ''}<BatchCount type="Integer" value="1"/></ResponseHeader>`
    + `<BatchItem><Operation type="Enumeration" value="${operation}"/>${result}${body}</BatchItem></ResponseMessage>`;
}

export function caseOf(name: string, ...messages: string[]): OasisCase {
  return parseCase(name, '2.1', 'mandatory', `<KMIP>${messages.join('')}</KMIP>`);
}

export function template(xml: string): TemplateNode {
  return parseTemplateDocument(`<KMIP>${xml}</KMIP>`)[0];
}

/** What a server answers: the XML with `$NOW` as `now` (seconds), no other placeholder. */
export function answer(xml: string, now: bigint): TtlvNode {
  return parseKmipXml(xml, { now });
}
