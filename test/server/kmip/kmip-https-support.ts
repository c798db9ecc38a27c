/**
 * Helpers for the KMIP over HTTPS tests: a request message in any encoding,
 * a response read back, and a raw HTTPS exchange on a TLS socket for what an
 * HTTP client library will not send (a chunked body past the limit).
 */
import { connect as tlsConnect } from 'node:tls';
import { ProtocolVersion, ResponseMessage } from '../../../protocol/kmip/kmip-message';
import { decodeResponse } from '../../../protocol/kmip/kmip-message-decoder';
import { encodeRequest } from '../../../protocol/kmip/kmip-message-encoder';
import { KmipHttpEncoding } from '../../../protocol/kmip/kmip-http';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { KmipHttpsClient } from '../../../scripts/kmip/kmip-https-client';
import { KmipCredentials } from '../../../scripts/kmip/kmip-tls-client';

export const V21: ProtocolVersion = { major: 2, minor: 1 };
export const V14: ProtocolVersion = { major: 1, minor: 4 };

/** One operation as a request message tree. */
export function requestOf(operation: string, payload: TtlvNode, version: ProtocolVersion = V21): TtlvNode {
  return encodeRequest({ header: { protocolVersion: version, batchCount: 1 }, batchItems: [{ operation, requestPayload: payload }] });
}

/** Sends one operation over HTTPS in `encoding` and decodes the answer. */
export async function callOver(client: KmipHttpsClient, encoding: KmipHttpEncoding, operation: string, payload: TtlvNode, version: ProtocolVersion = V21): Promise<ResponseMessage> {
  return decodeResponse(await client.exchange(requestOf(operation, payload, version), encoding));
}

/** Writes `bytes` on a fresh mutual-TLS socket and returns everything the server sent until it closed. */
export function rawHttps(port: number, credentials: KmipCredentials, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: credentials.caPem, cert: credentials.certificatePem, key: credentials.privateKeyPem, servername: 'localhost' });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a write after the server's close: what it answered is still read
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.once('secureConnect', () => socket.write(bytes));
    socket.setTimeout(15_000, () => {
      socket.destroy();
      reject(new Error('no close in time'));
    });
  });
}
