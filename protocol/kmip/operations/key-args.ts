/**
 * The native Create / Register arguments for what a KMIP client asked
 * (docs/kmip.md §3.4): the key's name (a generated one in the client's own
 * namespace when the client gave none), its usage, owner and custom
 * attributes, and when it becomes Active. KMIP leaves a new object
 * PreActive unless an Activation Date is given (KMIP 1.4 §3.24, the OASIS
 * SKLC cases); the appliance's own lifecycle does it: `activate: false`
 * (PreActive until an Activate), `activateAt` (the server activates it at
 * that date), or nothing (an Activation Date already come: Active now).
 * Protect Stop Date, Process Start Date and Deactivation Date are the native
 * usage dates (`protectStopAt`, `processStartAt`, `processStopAt`).
 * Pure: the clock and the id come from the context.
 */
import { RequestedAttributes } from './attribute-template';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';

/** The last date a JavaScript Date holds (ECMA-262: ±8.64e15 ms). */
const MAX_DATE_MS = 8.64e15;

/** The namespace of keys created or registered over KMIP without a Name: `kmip/<client>/<id>`. */
export const UNNAMED_NAMESPACE = 'kmip';

/** A name the server made for an object sent without one (`kmip/<client>/<uuid>`). */
const SERVER_MADE_NAME = /^kmip\/[^/]+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether a key's name is the one the server made because the client sent
 * none: KMIP then reports no Name (the object has none in KMIP's terms, as
 * the OASIS cases read it back), though grants and the audit trail use it.
 */
export const isServerMadeName = (fullName: string): boolean => SERVER_MADE_NAME.test(fullName);

export interface NativeKeyArgs {
  readonly name: string;
  readonly usage?: string[];
  readonly owner?: string;
  readonly attributes?: Record<string, string>;
  readonly activate?: boolean;
  readonly activateAt?: string;
  readonly protectStopAt?: string;
  readonly processStartAt?: string;
  readonly usageLimitTotal?: number;
  readonly usageLimitUnit?: 'byte' | 'object';
  readonly sensitive?: boolean;
  /** Register only (create.ts takes it out). */
  readonly fresh?: boolean;
  readonly processStopAt?: string;
}

export function nativeKeyArgs(requested: RequestedAttributes, ctx: KmipOperationContext): NativeKeyArgs {
  const attributes = Object.keys(requested.customAttributes).length > 0 ? { ...requested.customAttributes } : undefined;
  return {
    // Grants are by name pattern: each client's unnamed objects sit under its own name, so one grant (kmip/<client>/*) covers them and no other client's.
    name: requested.name ?? `${UNNAMED_NAMESPACE}/${ctx.client}/${ctx.newId()}`,
    usage: requested.usage === undefined ? undefined : [...requested.usage],
    owner: requested.owner,
    attributes,
    ...activation(requested.activationDate, ctx.nowMs()),
    ...(requested.protectStopDate === undefined ? {} : { protectStopAt: isoDate('Protect Stop Date', requested.protectStopDate) }),
    ...(requested.processStartDate === undefined ? {} : { processStartAt: isoDate('Process Start Date', requested.processStartDate) }),
    ...(requested.usageLimit === undefined ? {} : { usageLimitTotal: requested.usageLimit.total, usageLimitUnit: requested.usageLimit.unit }),
    ...(requested.sensitive === undefined ? {} : { sensitive: requested.sensitive }),
    ...(requested.fresh === undefined ? {} : { fresh: requested.fresh }),
    // The appliance deactivates an instance at its process stop (the usage-period sweep), which GetAttributes reports as the Deactivation Date.
    ...(requested.deactivationDate === undefined ? {} : { processStopAt: isoDate('Deactivation Date', requested.deactivationDate) }),
  };
}

/** A usage date as the native ISO form; past or future (the appliance keeps either: domain/usage-dates.ts). */
function isoDate(label: string, seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) throw new KmipOperationError('InvalidField', `${label} is beyond what a date here can hold (years -271821 to 275760)`);
  return new Date(ms).toISOString();
}

/** No date: PreActive until an Activate. A date to come: the server activates it then. A date come: Active now (the appliance never backdates an activation). */
export function activation(activationDate: bigint | undefined, nowMs: number): { activate?: boolean; activateAt?: string } {
  if (activationDate === undefined) return { activate: false };
  const ms = Number(activationDate) * 1000;
  if (ms > MAX_DATE_MS) throw new KmipOperationError('InvalidField', 'Activation Date is past the year 275760: no date this server can keep');
  return ms > nowMs ? { activateAt: new Date(ms).toISOString() } : {};
}
