/**
 * Key instance lifecycle states after NIST SP 800-57 and KMIP 1.4 §3.22, and
 * the transitions between them. This is the pure rule; services call
 * assertTransition before writing a state change.
 */
import { KeychainError } from '../common/errors';

export const INSTANCE_STATES = [
  'PreActive',
  'Active',
  'Deactivated',
  'Compromised',
  'Destroyed',
  'DestroyedCompromised',
] as const;

export type InstanceState = (typeof INSTANCE_STATES)[number];

const TRANSITIONS: Readonly<Record<InstanceState, readonly InstanceState[]>> = {
  PreActive: ['Active', 'Compromised', 'Destroyed'],
  Active: ['Deactivated', 'Compromised'],
  Deactivated: ['Compromised', 'Destroyed'],
  Compromised: ['DestroyedCompromised'],
  Destroyed: ['DestroyedCompromised'],
  DestroyedCompromised: [],
};

export function isInstanceState(value: string): value is InstanceState {
  return (INSTANCE_STATES as readonly string[]).includes(value);
}

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: InstanceState, to: InstanceState): void {
  if (!canTransition(from, to)) {
    throw new KeychainError('WRONG_STATE', `an instance cannot go from ${from} to ${to}`, { details: { from, to } });
  }
}

/**
 * States whose material may be served to a caller that is allowed to fetch
 * it. PreActive included: SP 800-57 lets a key be distributed before it is
 * activated, and KMIP's Get serves it (the OASIS SKFF cases Get straight
 * after Create); it does no cryptography until it is Active.
 */
export function materialRetrievable(state: InstanceState): boolean {
  return state === 'PreActive' || state === 'Active' || state === 'Deactivated' || state === 'Compromised';
}
