/**
 * The rules every cryptographic operation on a key obeys, whichever wire or
 * mode asks (domain/crypto-service.ts applies them before the material is
 * opened): the key's algorithm fits the operation, its usage mask allows
 * it, the instance's state and usage periods allow it (a Deactivated or
 * past-protect-stop instance decrypts and verifies but never encrypts or
 * signs; none before its process-start date decrypts or verifies), and inputs are within the sizes the appliance takes. Pure.
 */
import { KeychainError, ValidationError } from '../common/errors';
import { mayProtect } from './usage-periods';
import { processStarted } from './usage-dates';
import { InstanceView, KeyView } from './views';
import { USAGE_BITS, UsageName } from './usage-mask';

export function requireUsage(key: KeyView, usage: UsageName): void {
  if ((key.usageMask & USAGE_BITS[usage]) === 0) {
    throw new KeychainError('USAGE_NOT_PERMITTED', `${key.fullName} does not allow ${usage} (usage: ${key.usage.join(', ') || 'none'})`);
  }
}

export function requireFamily(key: KeyView, table: Readonly<Record<string, string>>, what: string): string {
  const name = table[key.algorithm];
  if (!name) throw new KeychainError('USAGE_NOT_PERMITTED', `${key.fullName} is ${key.algorithm}; ${what} needs ${Object.keys(table).join(' or ')}`);
  return name;
}

/**
 * Protect (encrypt, MAC) needs an Active instance before its protect-stop
 * date; process (decrypt, verify) also takes Deactivated and Compromised.
 */
export function requireState(instance: InstanceView, mode: 'protect' | 'process', nowMs: number): void {
  if (mode === 'process' && instance.processStopAt !== null && nowMs >= Date.parse(instance.processStopAt)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is past its process-stop date (${instance.processStopAt}): its recipient usage period is over`, {
      details: { instance: instance.name, processStopAt: instance.processStopAt },
    });
  }
  if (mode === 'process' && !processStarted(instance, nowMs)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is before its process-start date (${instance.processStartAt}): its recipient usage period has not begun`, {
      details: { instance: instance.name, processStartAt: instance.processStartAt ?? null },
    });
  }
  if (mode === 'protect' && instance.state === 'Active' && !mayProtect(instance, nowMs)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is past its protect-stop date (${instance.protectStopAt ?? instance.processStopAt}): it only decrypts now`, {
      details: { instance: instance.name, protectStopAt: instance.protectStopAt },
    });
  }
  const allowed = mode === 'protect' ? ['Active'] : ['Active', 'Deactivated', 'Compromised'];
  if (!allowed.includes(instance.state)) {
    throw new KeychainError('WRONG_STATE', `instance ${instance.name} is ${instance.state}: it cannot ${mode === 'protect' ? 'encrypt or sign' : 'decrypt or verify'}`, {
      details: { instance: instance.name, state: instance.state },
    });
  }
}

export function checkSize(name: string, value: Buffer | undefined, max: number, next?: string): void {
  if (value && value.length > max) throw new ValidationError(`${name} is larger than ${max} bytes${next ? `: ${next}` : ''}`);
}
