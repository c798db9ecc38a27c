/**
 * Rollover policy fields as stored now: `auto` with a cryptoperiod, `manual`,
 * or `none`. The scheduler that acts on `auto` comes with the lifecycle issue;
 * here the policy is validated and kept.
 */
import { ValidationError } from '../common/errors';
import { RolloverPolicyKind } from '../storage/records';

export interface RolloverPolicy {
  readonly kind: RolloverPolicyKind;
  readonly cryptoperiod: string | null;
}

/** ISO 8601 durations in days, weeks, months or years (`P90D`, `P1Y`, `P2W`, `P1Y6M`). */
const ISO_DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/;

/** Accepts `90` (days), `90d` or an ISO 8601 duration; returns the ISO form. */
export function parseCryptoperiod(text: string): string {
  const trimmed = text.trim().toUpperCase();
  const days = /^(\d+)D?$/.exec(trimmed);
  if (days) {
    if (Number(days[1]) < 1) throw new ValidationError('a cryptoperiod is at least one day');
    return `P${Number(days[1])}D`;
  }
  const match = ISO_DURATION.exec(trimmed);
  if (!match || trimmed === 'P' || match.slice(1).every((part) => part === undefined || Number(part) === 0)) {
    throw new ValidationError(`invalid cryptoperiod "${text}": give days (90) or an ISO 8601 duration (P90D, P1Y)`);
  }
  return trimmed;
}

/** A policy only when the caller gave one (else undefined: the namespace default applies). */
export function optionalRolloverPolicy(kind: string | undefined, cryptoperiod: string | undefined): RolloverPolicy | undefined {
  return kind === undefined && cryptoperiod === undefined ? undefined : makeRolloverPolicy(kind, cryptoperiod);
}

/** Parses `hr=P90D, lab=none, pay=manual` (config namespace_rollover): a cryptoperiod means auto. */
export function parseNamespaceDefaults(text: string): Map<string, RolloverPolicy> {
  const defaults = new Map<string, RolloverPolicy>();
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ValidationError(`namespace_rollover entry "${entry}" is not namespace=policy`);
    const namespace = entry.slice(0, eq).trim();
    const value = entry.slice(eq + 1).trim();
    defaults.set(namespace, value === 'manual' || value === 'none' ? makeRolloverPolicy(value, undefined) : makeRolloverPolicy('auto', value));
  }
  return defaults;
}

export function makeRolloverPolicy(kind: string | undefined, cryptoperiod: string | undefined): RolloverPolicy {
  const chosen = (kind ?? (cryptoperiod ? 'auto' : 'manual')).toLowerCase();
  if (chosen !== 'auto' && chosen !== 'manual' && chosen !== 'none') {
    throw new ValidationError(`invalid rollover policy "${kind}": use auto, manual or none`);
  }
  if (chosen === 'auto') {
    if (!cryptoperiod) throw new ValidationError('rollover policy auto needs a cryptoperiod (e.g. --cryptoperiod P90D)');
    return { kind: 'auto', cryptoperiod: parseCryptoperiod(cryptoperiod) };
  }
  if (cryptoperiod) throw new ValidationError(`a cryptoperiod only applies to rollover policy auto, not ${chosen}`);
  return { kind: chosen, cryptoperiod: null };
}
