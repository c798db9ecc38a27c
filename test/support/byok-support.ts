/**
 * Helpers for the wrapped export and import tests (docs/protocol.md §6.5):
 * an RSA key pair for the requester, the RFC 5649 wrap a peer would make,
 * the unwrap of what Export collected, and the steps of a request that two
 * approvers approve and its requester collects.
 */
import { constants, createHash, createPrivateKey, generateKeyPairSync, KeyObject, privateDecrypt } from 'node:crypto';
import { kwpUnwrap, kwpWrap } from '../../domain/keys/key-wrapping';
import { DecodedResponse } from '../../protocol/response';
import { RawConnection, TestAppliance } from './appliance-fixture';
import { required } from './approval-required';

export { kwpUnwrap, kwpWrap };

export interface RsaPair {
  readonly publicPem: string;
  readonly privateKey: KeyObject;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex (what approvers are shown). */
  readonly fingerprint: string;
}

export function rsaPair(bits = 2048): RsaPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privateKey: createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' })), fingerprint: createHash('sha256').update(der).digest('hex') };
}

/** RSA-OAEP-SHA256 (MGF1-SHA256) decryption, as the requester's tool (openssl pkeyutl -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256) does it. */
export function rsaOaepUnwrap(pair: RsaPair, wrapped: Buffer): Buffer {
  return privateDecrypt({ key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
}

export interface CollectedExport {
  readonly wrapped: Buffer;
  readonly kcv: string;
  readonly kcvKind: string;
  readonly instance: { name: string };
  readonly wrappingKey: Record<string, unknown>;
}

/** The request's view, as an approver reads it. */
export async function viewOf(connection: RawConnection, id: string): Promise<{ args: Record<string, unknown>; binding: Record<string, string> | null; state: string; class: string; error: { code: string } | null }> {
  const shown = await connection.request('ApprovalGet', { id });
  expect(shown.error).toBeUndefined();
  return (shown.result as { request: { args: Record<string, unknown>; binding: Record<string, string> | null; state: string; class: string; error: { code: string } | null } }).request;
}

/** Approves an APPROVAL_REQUIRED Export (it becomes `approved`) and collects it as `requester`; the collect's raw answer. */
export async function approveAndCollect(t: TestAppliance, requester: RawConnection, asked: DecodedResponse): Promise<DecodedResponse> {
  const details = required(asked);
  expect((await t.approve(asked)).state).toBe('approved');
  return requester.request('ApprovalCollect', { id: details.requestId });
}

export function collected(answer: DecodedResponse): CollectedExport {
  expect(answer.error).toBeUndefined();
  const result = answer.result as { wrapped: string; kcv: string; kcvKind: string; instance: { name: string }; wrappingKey: Record<string, unknown> };
  return { ...result, wrapped: Buffer.from(result.wrapped, 'base64') };
}
