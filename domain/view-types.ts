/**
 * The shapes of the views callers see of keys and instances (metadata only),
 * apart from the functions that build them from records (views.ts): the
 * client library takes these as types without pulling in storage/.
 */
import type { UsageName } from './usage-mask';

export interface KeyView {
  readonly id: string;
  readonly fullName: string;
  readonly namespace: string;
  readonly name: string;
  readonly algorithm: string;
  readonly usageMask: number;
  readonly usage: UsageName[];
  readonly description: string;
  readonly owner: string;
  readonly customAttributes: Readonly<Record<string, string>>;
  readonly rolloverPolicy: string;
  readonly cryptoperiod: string | null;
  readonly currentInstance: string;
  readonly currentVersion: number;
  /** The current instance's state (PreActive, Active, …): what Locate filters on without a read per key. */
  readonly currentState: string;
  /** When the scheduler rolls it over next (ISO UTC), or null. */
  readonly nextRolloverAt: string | null;
  /** SP 800-57 originator and recipient usage periods of new instances (ISO 8601), or null. */
  readonly protectPeriod: string | null;
  readonly processPeriod: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface InstanceView {
  readonly name: string;
  readonly version: number;
  readonly state: string;
  readonly current: boolean;
  readonly hasMaterial: boolean;
  readonly createdAt: string;
  /** When it became Active; null while PreActive. */
  readonly activatedAt: string | null;
  /** A PreActive instance's activation date: the server activates it then (null: none, or not PreActive). */
  readonly activatesAt: string | null;
  readonly deactivatedAt: string | null;
  readonly destroyedAt: string | null;
  /** When a scheduled destruction takes effect, or null. While set, the instance refuses use. */
  readonly destroyAt: string | null;
  /** End of originator use: from then it never encrypts (null: none). */
  readonly protectStopAt: string | null;
  /** End of recipient use: from then it is Deactivated (null: none). */
  readonly processStopAt: string | null;
  /** The reason Revoke gave (REVOCATION_REASONS), or null: not revoked (or revoked before the appliance kept it). */
  readonly revocationReason: string | null;
  /** When Revoke marked it compromised, or null. */
  readonly compromisedAt: string | null;
  /** When the compromise occurred (Revoke's compromiseDate, else when it was revoked), or null. */
  readonly compromiseOccurredAt: string | null;
}
