/**
 * Appliance keys used as wrapping keys (BYOK, issue 14): an AES key in the
 * keychain wraps an exported instance's material (RFC 5649), or unwraps
 * imported material, through Keychain.useMaterial, which zeroes the
 * wrapping key's bytes afterwards.
 *
 * The one crypto rule applies as to Encrypt and Decrypt
 * (domain/crypto-rules.ts): the wrapping key is AES, its usage mask allows
 * `wrap-key` (to wrap) or `unwrap-key` (to unwrap), as KMIP's Cryptographic
 * Usage Mask says of a key-encryption key, and its instance is Active and
 * within its protect period to wrap (a protecting use), Active, Deactivated
 * or Compromised and within its process period to unwrap.
 */
import { Clock } from '../../common/clock';
import { algorithmInfo, parseAlgorithm } from '../algorithms';
import { requireState, requireUsage } from '../crypto-rules';
import { KeyRef } from '../keychain';
import type { Keychain } from '../keychain';
import { InstanceView, KeyView } from '../views';
import { KeychainError } from '../../common/errors';
import { kwpUnwrap, kwpWrap } from './key-wrapping';

export type WrapDirection = 'wrap' | 'unwrap';

/** Throws (USAGE_NOT_PERMITTED, WRONG_STATE) unless the key and instance may `direction` now. */
export function allowWrappingKey(key: KeyView, instance: InstanceView, direction: WrapDirection, nowMs: number): void {
  if (algorithmInfo(parseAlgorithm(key.algorithm)).family !== 'aes') {
    throw new KeychainError('USAGE_NOT_PERMITTED', `${key.fullName} is ${key.algorithm}: AES key wrap (RFC 5649) needs an AES key as the wrapping key`, {
      details: { algorithm: key.algorithm },
    });
  }
  requireUsage(key, direction === 'wrap' ? 'wrap-key' : 'unwrap-key');
  requireState(instance, direction === 'wrap' ? 'protect' : 'process', nowMs);
}

export class WrappingKeys {
  constructor(
    private readonly keychain: Keychain,
    private readonly clock: Clock,
  ) {}

  /** The checks of `use`, without opening the material: a request refused now rather than after its approval. */
  check(ref: KeyRef, direction: WrapDirection): InstanceView {
    const instance = this.keychain.describeInstance(ref);
    const owner = ref.fullName ?? this.keychain.keyNameOfInstance(instance.name);
    allowWrappingKey(this.keychain.describeKey(owner as string).key, instance, direction, this.clock.nowMs());
    return instance;
  }

  /** RFC 5649 wrap of `material` (the caller's to zero) under the referenced instance. */
  wrap(ref: KeyRef, material: Buffer): { wrapped: Buffer; instance: string } {
    return this.keychain.useMaterial(
      ref,
      (key, instance) => allowWrappingKey(key, instance, 'wrap', this.clock.nowMs()),
      (kek, ids) => ({ wrapped: kwpWrap(kek, material), instance: ids.instanceName }),
    );
  }

  /** The unwrapped material, in a Buffer the caller zeroes; UNWRAP_FAILED for a blob not wrapped under this instance. */
  unwrap(ref: KeyRef, wrapped: Buffer): { material: Buffer; instance: string } {
    return this.keychain.useMaterial(
      ref,
      (key, instance) => allowWrappingKey(key, instance, 'unwrap', this.clock.nowMs()),
      (kek, ids) => ({ material: kwpUnwrap(kek, wrapped), instance: ids.instanceName }),
    );
  }
}
