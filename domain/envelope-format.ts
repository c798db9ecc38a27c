/**
 * The ciphertext layout of Encrypt and of wrapped data keys (docs/protocol.md
 * §6.1): it names the instance that made it, so decryption keeps working
 * after a rollover.
 *
 *   0x01 | n (1 byte) | instance name (n ASCII bytes) | IV (12) | ciphertext | tag (16)
 */
import { KeychainError } from '../common/errors';

const FORMAT_V1 = 0x01;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Instance names are 20 characters; anything up to 64 is accepted so the format can outlive today's ids. */
const MAX_INSTANCE_NAME = 64;

export interface Envelope {
  readonly instanceName: string;
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

export function encodeEnvelope(envelope: Envelope): Buffer {
  const name = Buffer.from(envelope.instanceName, 'ascii');
  return Buffer.concat([Buffer.from([FORMAT_V1, name.length]), name, envelope.iv, envelope.body, envelope.tag]);
}

export function decodeEnvelope(bytes: Buffer): Envelope {
  const bad = (why: string): KeychainError => new KeychainError('INVALID_ARGUMENT', `not a Strongroom ciphertext (${why})`);
  if (bytes.length < 2) throw bad('too short');
  if (bytes[0] !== FORMAT_V1) throw bad('unknown format');
  const n = bytes[1];
  if (n === 0 || n > MAX_INSTANCE_NAME) throw bad('bad instance name length');
  if (bytes.length < 2 + n + IV_BYTES + TAG_BYTES) throw bad('too short');
  const instanceName = bytes.subarray(2, 2 + n).toString('ascii');
  if (!/^[A-Za-z0-9_-]+$/.test(instanceName)) throw bad('bad instance name');
  const ivStart = 2 + n;
  return {
    instanceName,
    iv: bytes.subarray(ivStart, ivStart + IV_BYTES),
    body: bytes.subarray(ivStart + IV_BYTES, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}
