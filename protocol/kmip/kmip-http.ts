/**
 * KMIP over HTTPS (KMIP Profiles 1.4 and 2.1, "HTTPS Profile"; KMIP
 * Additional Message Encodings): each request message is the body of a POST
 * to /kmip, its encoding named by the Content-Type, and the response comes
 * back in the same encoding. This module says which media types name which
 * encoding and turns a body into a TTLV tree and back; the listener is
 * server/kmip/kmip-https-wire.ts. Pure: no I/O.
 */
import { KmipCodecError } from './kmip-codec-error';
import { formatKmipJson, parseKmipJson } from './kmip-json';
import { formatKmipXml, KMIP_MAX_TEXT_CHARS, parseKmipXml } from './kmip-xml';
import { KMIP_MAX_MESSAGE_BYTES, TtlvNode } from './ttlv';
import { decodeTtlv } from './ttlv-decoder';
import { encodeTtlv } from './ttlv-encoder';

/** The one path the HTTPS profile serves. */
export const KMIP_HTTP_PATH = '/kmip';

export type KmipHttpEncoding = 'ttlv' | 'json' | 'xml';

/** The media type each encoding is sent and answered with. */
export const KMIP_CONTENT_TYPES: Readonly<Record<KmipHttpEncoding, string>> = {
  ttlv: 'application/octet-stream',
  json: 'application/json',
  xml: 'text/xml',
};

/** Media types read as each encoding: the profile's, and application/xml, which XML clients also send. */
const ENCODING_OF_MEDIA_TYPE: ReadonlyMap<string, KmipHttpEncoding> = new Map([
  ['application/octet-stream', 'ttlv'],
  ['application/json', 'json'],
  ['text/xml', 'xml'],
  ['application/xml', 'xml'],
]);

/**
 * The largest body of each encoding, checked before it is buffered: a TTLV
 * message's limit, and for the text encodings the codec's own text limit,
 * which holds a maximal TTLV message written out (hex doubles its bytes).
 */
export const KMIP_MAX_BODY_BYTES: Readonly<Record<KmipHttpEncoding, number>> = {
  ttlv: KMIP_MAX_MESSAGE_BYTES,
  json: KMIP_MAX_TEXT_CHARS,
  xml: KMIP_MAX_TEXT_CHARS,
};

/** The encoding a Content-Type header names (parameters such as charset aside, case-insensitive); null when none. */
export function encodingOfContentType(contentType: string | undefined): KmipHttpEncoding | null {
  if (contentType === undefined) return null;
  return ENCODING_OF_MEDIA_TYPE.get(contentType.split(';')[0].trim().toLowerCase()) ?? null;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A body → the TTLV tree it encodes; KmipCodecError when it is not one message of its encoding. */
export function decodeKmipBody(encoding: KmipHttpEncoding, body: Buffer): TtlvNode {
  if (encoding === 'ttlv') return decodeTtlv(body);
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw new KmipCodecError('BAD_UTF8', `the ${encoding === 'json' ? 'JSON' : 'XML'} body is not well-formed UTF-8`);
  }
  return encoding === 'json' ? parseKmipJson(text) : parseKmipXml(text);
}

/** A TTLV tree → the body that carries it in `encoding`. */
export function encodeKmipBody(encoding: KmipHttpEncoding, node: TtlvNode): Buffer {
  if (encoding === 'ttlv') return encodeTtlv(node);
  return Buffer.from(encoding === 'json' ? formatKmipJson(node) : formatKmipXml(node), 'utf8');
}
