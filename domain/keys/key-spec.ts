/**
 * What a new key may be given (KeySpec) and the checks on it: metadata sizes
 * and names, and the material length its algorithm allows. A key's metadata
 * is authenticated and served on every describe, so it is bounded.
 */
import { ValidationError } from '../../common/errors';
import { Algorithm, algorithmInfo } from '../algorithms';
import { RolloverPolicy } from '../rollover-policy';
import { UsagePeriods } from '../usage-periods';
import { UsageDates } from '../usage-dates';
import { ATTRIBUTE_NAME_PATTERN, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION } from '../vocabulary/key-metadata-limits';

export { MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION };

export interface KeySpec {
  readonly fullName: string;
  readonly algorithm: Algorithm;
  readonly usageMask?: number;
  readonly description?: string;
  readonly owner?: string;
  readonly customAttributes?: Readonly<Record<string, string>>;
  readonly rollover?: RolloverPolicy;
  /** False creates the first instance PreActive (it must be activated before use). Default true. */
  readonly activate?: boolean;
  /**
   * An activation date (ISO 8601 with a zone) in the future: the first
   * instance is PreActive until then, when the server's sweep activates it.
   */
  readonly activateAt?: string;
  /** SP 800-57 usage periods of its instances (default: none). */
  readonly usagePeriods?: UsagePeriods;
  /** An OPAQUE object's Opaque Data Type (domain/stored-objects.ts); refused for any other algorithm. */
  readonly opaqueType?: number;
  /** Absolute usage dates of its first instance (domain/usage-dates.ts; default: none). */
  readonly usageDates?: UsageDates;
  /**
   * KMIP Fresh of its first instance (default true: its material was never
   * served). A registering client may say false (it has handed the material
   * out already); nothing can make a served instance fresh again.
   */
  readonly fresh?: boolean;
  /**
   * Whether its material may never be served in the clear (KMIP Sensitive,
   * domain/keys/material-facts.ts): set at creation only, for every
   * instance of the key. Default false.
   */
  readonly sensitive?: boolean;
}

export function checkMaterialLength(algorithm: Algorithm, material: Buffer): void {
  const info = algorithmInfo(algorithm);
  if (material.length < info.minLength || material.length > info.maxLength) {
    const range = info.minLength === info.maxLength ? `${info.minLength}` : `${info.minLength} to ${info.maxLength}`;
    throw new ValidationError(`${algorithm} material must be ${range} bytes, not ${material.length}`);
  }
}

export function checkText(field: string, value: string, max: number): string {
  if (value.length > max) throw new ValidationError(`${field} is longer than ${max} characters`);
  return value;
}

export function checkAttributes(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(attributes);
  if (entries.length > MAX_CUSTOM_ATTRIBUTES) throw new ValidationError(`at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes`);
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) {
      throw new ValidationError(`invalid custom attribute name "${name}": letters, digits, ".", "_", "-", at most ${MAX_ATTRIBUTE_NAME}`);
    }
    if (typeof value !== 'string') throw new ValidationError(`custom attribute ${name} must be a string`);
    checkText(`custom attribute ${name}`, value, MAX_ATTRIBUTE_VALUE);
  }
  return Object.fromEntries(entries);
}
