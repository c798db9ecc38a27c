/**
 * What callers see of keys and instances: metadata only. Material travels
 * separately, in a Buffer the caller zeroes (RetrievedKey).
 */
import { InstanceRecord, KeyRecord } from '../storage/records';
import { formatKeyName } from './key-names';
import { usageNames, UsageName } from './usage-mask';

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
}

export interface RetrievedKey {
  readonly key: KeyView;
  readonly instance: InstanceView;
  /** The plaintext material. The caller owns it and must zero it after use. */
  readonly material: Buffer;
}

export function keyView(key: KeyRecord, current: InstanceRecord): KeyView {
  return {
    id: key.id,
    fullName: formatKeyName(key),
    namespace: key.namespace,
    name: key.name,
    algorithm: key.algorithm,
    usageMask: key.usageMask,
    usage: usageNames(key.usageMask),
    description: key.description,
    owner: key.owner,
    customAttributes: { ...key.customAttributes },
    rolloverPolicy: key.rolloverPolicy,
    cryptoperiod: key.cryptoperiod,
    currentInstance: current.name,
    currentVersion: current.version,
    nextRolloverAt: key.nextRolloverAt,
    protectPeriod: key.protectPeriod,
    processPeriod: key.processPeriod,
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
  };
}

export function instanceView(instance: InstanceRecord, currentInstanceId: string): InstanceView {
  return {
    name: instance.name,
    version: instance.version,
    state: instance.state,
    current: instance.id === currentInstanceId,
    hasMaterial: instance.sealedMaterial !== null,
    createdAt: instance.createdAt,
    // The row keeps a PreActive instance's activation date in activatedAt (keys/instance-activation.ts).
    activatedAt: instance.state === 'PreActive' ? null : instance.activatedAt,
    activatesAt: instance.state === 'PreActive' ? instance.activatedAt : null,
    deactivatedAt: instance.deactivatedAt,
    destroyedAt: instance.destroyedAt,
    destroyAt: instance.destroyAt,
    protectStopAt: instance.protectStopAt,
    processStopAt: instance.processStopAt,
  };
}
