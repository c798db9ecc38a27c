/**
 * What callers see of keys and instances: metadata only. Material travels
 * separately, in a Buffer the caller zeroes (RetrievedKey).
 */
import { InstanceRecord, KeyRecord } from '../storage/records';
import { formatKeyName } from './key-names';
import { usageNames } from './usage-mask';
import type { InstanceView, KeyView, ObjectFacts } from './view-types';

export type { InstanceView, KeyView } from './view-types';



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
    currentState: current.state,
    nextRolloverAt: key.nextRolloverAt,
    protectPeriod: key.protectPeriod,
    processPeriod: key.processPeriod,
    createdAt: key.createdAt,
    updatedAt: key.updatedAt,
    // Canonical JSON written by the appliance at Register, authenticated with the row (domain/stored-objects.ts).
    ...(key.facts === null || key.facts === undefined ? {} : { facts: JSON.parse(key.facts) as ObjectFacts }),
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
    // Shown only when set: most instances have none, and their views stay as they were.
    ...(instance.processStartAt === null ? {} : { processStartAt: instance.processStartAt }),
    revocationReason: instance.revocationReason,
    compromisedAt: instance.compromisedAt,
    compromiseOccurredAt: instance.compromiseOccurredAt,
    fresh: instance.fresh,
  };
}
