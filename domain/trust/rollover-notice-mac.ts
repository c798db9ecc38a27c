/**
 * The MAC that marks a rollover notice in the audit trail as one this
 * appliance wrote. The scheduler records each notice once and, after a
 * restart, learns from the trail which it already recorded
 * (domain/rollover-notices.ts). The trail's tail is covered only by the
 * unkeyed hash chain, so someone who can write the database file could
 * append a well-chained "notice" that the SIEM never received, to make the
 * appliance believe a notice was given and stay silent. A notice counts as
 * recorded only when its MAC — over the keychain id, the key's id, the
 * instance the rollover replaces and the due date, under the rows key
 * (trust-keys.ts) — is the one the keychain makes now: a forged or copied
 * one is not, and the genuine notice is recorded.
 *
 * A master-key rotation changes the rows key: notices recorded before it
 * are no longer recognised, and a rollover still pending is noticed once
 * more. Duplicated, never hidden.
 */
import { createHmac } from 'node:crypto';
import { encodeFields } from '../field-encoding';
import { TrustKeys } from './trust-keys';

export interface NoticedRollover {
  readonly keyId: string;
  /** The instance the rollover replaces (the key's current one). */
  readonly instance: string;
  /** ISO 8601 UTC. */
  readonly dueAt: string;
}

/** Hex HMAC-SHA256 of the notice's identity. */
export function rolloverNoticeMac(keys: TrustKeys, notice: NoticedRollover): string {
  return createHmac('sha256', keys.rows).update(encodeFields(['strongroom/rollover-notice/v1', keys.keychainId, notice.keyId, notice.instance, notice.dueAt])).digest('hex');
}
