/**
 * KMIP Usage Limits (2.1 §4.51, 1.4 §3.21) ↔ the appliance's usage limit
 * (domain/usage-limits.ts): Usage Limits {Usage Limits Total, Usage Limits
 * Count?, Usage Limits Unit}, Unit Byte or Object. A client sets it when it
 * makes the object (Create, Register); the server spends it and reports
 * the Count as what remains (KMIP: "the number of Usage Limits Units
 * remaining"). A Count sent with the request is ignored (KMIP 2.1 §4.51:
 * "The server SHALL ignore the Usage Limits Count value if the attribute is
 * specified in an operation that creates a new object"): a budget starts
 * whole, never part spent nor more than whole. Changing it
 * afterwards (Set, Modify, Add Attribute) is refused where those
 * operations are served: a client that could raise its own budget would
 * have none (docs/kmip.md §3).
 */
import type { UsageLimit, UsageState } from '../../../domain/usage-limits';
import type { UsageLimitUnit } from '../../../domain/vocabulary/usage-limit-units';
import { TtlvNode } from '../ttlv';
import { KmipOperationError } from './kmip-operation';
import { enumItem, longItem, PayloadReader, structureItem } from './payload';

const UNIT_OF_KMIP: Readonly<Record<string, UsageLimitUnit>> = { Byte: 'byte', Object: 'object' };
const KMIP_OF_UNIT: Readonly<Record<UsageLimitUnit, string>> = { byte: 'Byte', object: 'Object' };

/** Reads a Usage Limits value sent at Create or Register. */
export function readUsageLimits(label: string, value: TtlvNode): UsageLimit {
  if (value.type !== 'Structure') throw new KmipOperationError('InvalidField', `${label} must be a Structure, not a ${value.type}`);
  const reader = new PayloadReader(value, label);
  const total = longOf(label, 'UsageLimitsTotal', reader.required('UsageLimitsTotal'));
  const count = reader.optional('UsageLimitsCount');
  const unitName = reader.enumName('UsageLimitsUnit');
  reader.rejectOthers();
  if (unitName === undefined) throw new KmipOperationError('InvalidField', `${label} needs a Usage Limits Unit (Byte or Object)`);
  const unit = UNIT_OF_KMIP[unitName];
  if (unit === undefined) throw new KmipOperationError('InvalidField', `${label}: Usage Limits Unit ${unitName} is not one KMIP defines`);
  if (total < 1n || total > BigInt(Number.MAX_SAFE_INTEGER)) throw new KmipOperationError('InvalidField', `${label}: Usage Limits Total must be from 1 to ${Number.MAX_SAFE_INTEGER}`);
  // Typed, then ignored: the server sets the Count to the Total (the comment above).
  if (count !== undefined) longOf(label, 'UsageLimitsCount', count);
  return { total: Number(total), unit };
}

function longOf(label: string, field: string, node: TtlvNode): bigint {
  if (node.type !== 'LongInteger') throw new KmipOperationError('InvalidField', `${label}: ${field} must be a Long Integer, not a ${node.type}`);
  return node.value;
}

/** The attribute GetAttributes reports: the Count is what remains. */
export function usageLimitsItem(usage: UsageState | undefined): TtlvNode | undefined {
  if (usage === undefined) return undefined;
  return structureItem('UsageLimits', [
    longItem('UsageLimitsTotal', BigInt(usage.total)),
    longItem('UsageLimitsCount', BigInt(usage.remaining)),
    enumItem('UsageLimitsUnit', KMIP_OF_UNIT[usage.unit]),
  ]);
}
