/**
 * Add, Modify, Delete and Set Attribute on a kept attribute (Alternative
 * Name, Application Specific Information, Object Group, Cryptographic
 * Parameters: kept-attributes.ts), for attribute-changes.ts. Each may have
 * several values; which one a change acts on is named as each version
 * names it:
 *
 * - 1.x by Attribute Index (1.4 §4.13–15): Add appends and answers the new
 *   value's index; Modify replaces and Delete removes the value at the
 *   index given (0 when none is);
 * - 2.x by value (2.1 §6.1.2, 6.1.15, 6.1.31, 6.1.49): Add appends; Modify
 *   replaces the Current Attribute (it may be left out when there is one
 *   value); Delete removes the Current Attribute, or every value when only
 *   an Attribute Reference is given; Set makes the attribute that one value
 *   (refused when it has several, which only Modify can tell apart).
 *
 * The whole new list is written through the native SetCustomAttributes
 * (`modify-attributes` on the key, audited by the dispatcher): the values
 * are the key's, so every instance of the key shows the change.
 */
import { ProtocolVersion } from '../kmip-message';
import { TtlvNode } from '../ttlv';
import { SentAttribute } from './attribute-references';
import { attributeNameOf, ObjectView } from './attribute-views';
import { KmipOperationContext, KmipOperationError } from './kmip-operation';
import { encodeKeptValues, KeptTag, keptName, keptValue, readKeptValues, sameKeptValue } from './kept-attributes';
import { integerItem, item, structureItem, textItem } from './payload';

export type KeptChange = 'AddAttribute' | 'ModifyAttribute' | 'DeleteAttribute' | 'SetAttribute';

/** What the request asks of the attribute: the 1.x index, the value to write, and (2.x) the value it acts on. */
export interface KeptChangeRequest {
  readonly uid: string;
  readonly index?: number;
  readonly value?: TtlvNode;
  readonly current?: SentAttribute;
}

/** Refuses with a 2.x Result Reason, turned into its 1.x nearest by the caller's rule (attribute-changes.ts). */
export type Refuse = (reason: string, message: string) => KmipOperationError;

/** Where the value a 1.x Modify or Delete names sits in the list; refused when there is no such value. */
function indexed(values: readonly TtlvNode[], index: number | undefined, label: string, refuse: Refuse): number {
  const at = index ?? 0;
  if (values.length === 0) throw refuse('AttributeNotFound', `the object has no ${label}`);
  if (at < 0 || at >= values.length) throw refuse('AttributeInstanceNotFound', `${label} has ${values.length} value${values.length === 1 ? '' : 's'} (indexes 0 to ${values.length - 1}), not one at index ${at}`);
  return at;
}

/** Where the 2.x Current Attribute sits in the list; with none given, the only value. */
function current(values: readonly TtlvNode[], tag: KeptTag, sent: SentAttribute | undefined, label: string, refuse: Refuse): number {
  if (values.length === 0) throw refuse('AttributeNotFound', `the object has no ${label}`);
  if (sent === undefined) {
    if (values.length > 1) throw refuse('MultiValuedAttribute', `${label} has ${values.length} values: give the Current Attribute to say which`);
    return 0;
  }
  if (sent.selector.kind !== 'standard' || sent.selector.tag !== tag) throw new KmipOperationError('InvalidField', `the Current Attribute and the New Attribute must be the same attribute (${label})`);
  const wanted = keptValue(tag, sent.value);
  const at = values.findIndex((value) => sameKeptValue(value, wanted));
  if (at < 0) throw refuse('AttributeInstanceNotFound', `${label} does not hold the Current Attribute value given`);
  return at;
}

/** 1.x answer: Attribute {Attribute Name, Attribute Index (past 0), Attribute Value}. */
function echo1(tag: KeptTag, value: TtlvNode, index: number): TtlvNode {
  return structureItem('Attribute', [textItem('AttributeName', attributeNameOf(tag)), index > 0 ? integerItem('AttributeIndex', index) : undefined, item('AttributeValue', value.type, value.value)]);
}

/**
 * Applies a change to a kept attribute and writes the key's new list.
 * Answers what a 1.x response echoes (the attribute written or deleted,
 * with its index); nothing for 2.x.
 */
export async function changeKept(change: KeptChange, tag: KeptTag, request: KeptChangeRequest, object: ObjectView, ctx: KmipOperationContext, refuse: Refuse): Promise<TtlvNode[]> {
  const label = attributeNameOf(tag);
  const version: ProtocolVersion = ctx.version;
  const kept = readKeptValues(object.key.customAttributes, tag);
  if (!kept.ok) throw refuse('IllegalOperation', `${kept.why}: it was not written over KMIP; remove it with the native SetCustomAttributes before changing ${label} here`);
  const values = [...kept.values];
  const sent = request.value === undefined ? undefined : keptValue(tag, request.value);
  let echoed: { value: TtlvNode; index: number } | undefined;
  if (change === 'AddAttribute') {
    values.push(sent as TtlvNode);
    echoed = { value: sent as TtlvNode, index: values.length - 1 };
  } else if (change === 'SetAttribute') {
    if (values.length > 1) throw refuse('MultiValuedAttribute', `${label} has ${values.length} values: Modify Attribute with a Current Attribute changes one, Delete Attribute removes them`);
    values.splice(0, values.length, sent as TtlvNode);
  } else if (change === 'ModifyAttribute') {
    const at = version.major < 2 ? indexed(values, request.index, label, refuse) : current(values, tag, request.current, label, refuse);
    values[at] = sent as TtlvNode;
    echoed = { value: sent as TtlvNode, index: at };
  } else if (version.major < 2) {
    const at = indexed(values, request.index, label, refuse);
    echoed = { value: values.splice(at, 1)[0], index: at };
  } else if (request.current !== undefined) {
    values.splice(current(values, tag, request.current, label, refuse), 1);
  } else {
    if (values.length === 0) throw refuse('AttributeNotFound', `the object has no ${label}`);
    values.splice(0, values.length);
  }
  const encoded = encodeKeptValues(tag, values);
  const name = keptName(tag);
  await ctx.call('SetCustomAttributes', encoded === null ? { instance: request.uid, remove: [name] } : { instance: request.uid, set: { [name]: encoded } });
  return version.major < 2 && echoed !== undefined ? [echo1(tag, echoed.value, echoed.index)] : [];
}
