/**
 * Add, Modify and Delete Attribute (1.x and 2.x) and Set Attribute (2.x)
 * (KMIP 2.1 §6.1.2, 6.1.31, 6.1.15, 6.1.49; 1.4 §4.13–15), as far as the
 * appliance has native operations for them (docs/kmip.md §3.4):
 *
 * - the kept standard attributes (Alternative Name, Application Specific
 *   Information, Object Group, Cryptographic Parameters) change by value or
 *   index as kept-attribute-changes.ts says, through the same native operation;
 * - custom attributes (`x-NAME`, or vendor `x`) change through the native
 *   SetCustomAttributes (`modify-attributes` on the key); they are the
 *   key's, one value per name, so every instance of the key shows the change;
 * - an Activation Date answers Wrong Key Lifecycle State unless the
 *   instance is PreActive (the OASIS SKLC-M-3 answer), and Feature Not
 *   Supported when it is (Activate activates it now; no native operation
 *   moves a pending date);
 * - every other attribute is the appliance's to keep (read-only), or one it
 *   does not keep (unsupported), each refused with its Result Reason.
 *
 * The object is read first (native GetAttributes, `get-attributes`), so a
 * refusal can say what the object holds and 1.x answers can echo values.
 */
import { KeyView } from '../../../domain/view-types';
import { ProtocolVersion } from '../kmip-message';
import { CUSTOM_PREFIX, encodeAttributes, ObjectView, REPORTED_TAGS } from './attribute-views';
import { AttributeSelector, readAttribute1, readWrappedAttribute, referenceSelector, selectorLabel, selectorOfName, SentAttribute } from './attribute-references';
import { KmipOperation, KmipOperationContext, KmipOperationError } from './kmip-operation';
import { instanceNamed } from './instance-identifier';
import { tagNumberOf } from '../kmip-message-fields';
import { describeObject } from './object-reference';
import { changeKept } from './kept-attribute-changes';
import { isKeptTag } from './kept-attributes';
import { CustomValue, customWrite, heldCustomValue, heldNativeNames, sameCustomValue, sentCustomValue } from './custom-values';
import { PayloadReader, responsePayload, textItem } from './payload';

type Change = 'AddAttribute' | 'ModifyAttribute' | 'DeleteAttribute' | 'SetAttribute';

/** 1.x has none of the attribute reasons 2.0 added: the nearest 1.x reason (PermissionDenied is what SKLC-M-3-14 answers). */
const KMIP_1_FALLBACK: Readonly<Record<string, string>> = {
  ReadOnlyAttribute: 'PermissionDenied',
  AttributeReadOnly: 'PermissionDenied',
  WrongKeyLifecycleState: 'PermissionDenied',
  AttributeNotFound: 'ItemNotFound',
  AttributeInstanceNotFound: 'ItemNotFound',
  AttributeSingleValued: 'IllegalOperation',
  MultiValuedAttribute: 'IllegalOperation',
  UnsupportedAttribute: 'FeatureNotSupported',
  InvalidAttributeValue: 'InvalidField',
  NonUniqueNameAttribute: 'IllegalOperation',
};

function refuse(version: ProtocolVersion, reason: string, message: string): KmipOperationError {
  return new KmipOperationError(version.major >= 2 ? reason : (KMIP_1_FALLBACK[reason] ?? reason), message);
}

/** What the request asks: the attribute, its 1.x index, the value to write, and the value it must replace or delete (2.x Current Attribute). */
interface Request {
  readonly uid: string;
  readonly selector: AttributeSelector;
  readonly index?: number;
  readonly value?: SentAttribute['value'];
  readonly current?: SentAttribute;
}

function readRequest(change: Change, payload: PayloadReader, version: ProtocolVersion, ctx: Pick<KmipOperationContext, 'idPlaceholder'>): Request {
  const uid = instanceNamed(payload, ctx);
  let request: Request;
  if (version.major < 2) {
    if (change === 'DeleteAttribute') {
      request = { uid, selector: selectorOfName(payload.requiredText('AttributeName')), index: payload.integer('AttributeIndex') };
    } else {
      const sent = readAttribute1(payload.required('Attribute'), `${payload.path}/Attribute`);
      request = { uid, selector: sent.selector, index: sent.index, value: sent.value };
    }
  } else if (change === 'DeleteAttribute') {
    const current = readWrappedAttribute(payload, 'CurrentAttribute');
    const reference = payload.optional('AttributeReference');
    const selector = current?.selector ?? (reference === undefined ? undefined : referenceSelector(reference, payload.path));
    if (selector === undefined) throw new KmipOperationError('InvalidField', `${payload.path}: give Current Attribute or Attribute Reference`);
    request = { uid, selector, current };
  } else {
    const current = change === 'ModifyAttribute' ? readWrappedAttribute(payload, 'CurrentAttribute') : undefined;
    const sent = readWrappedAttribute(payload, 'NewAttribute');
    if (sent === undefined) throw new KmipOperationError('InvalidField', `${payload.path}/NewAttribute is required`);
    request = { uid, selector: sent.selector, value: sent.value, current };
  }
  payload.rejectOthers();
  return request;
}

/** Why a standard attribute cannot be written, naming the native operation that changes it where there is one. */
const READ_ONLY_WHY: Readonly<Record<string, string>> = {
  Name: 'keys are not renamed (an alias, AliasSet, gives a key another name)',
  State: 'Activate, Revoke and Destroy change it',
  Link: 'links follow the versions of the key (ReKey makes the next)',
  DeactivationDate: 'Revoke deactivates; the key\'s usage periods (SetRolloverPolicy) set it in advance',
  ProtectStopDate: 'the key\'s usage periods (SetRolloverPolicy) set it',
  UsageLimits: 'fixed when the object is made (a client that could raise its own budget would have none)',
};

function customValue(request: Request, version: ProtocolVersion): CustomValue {
  const value = request.value;
  if (value === undefined || value.type === 'Structure') throw refuse(version, 'InvalidAttributeValue', `${selectorLabel(request.selector)}: custom attribute values are single values here, not Structures`);
  return sentCustomValue(selectorLabel(request.selector), value);
}

/** The existing value a Modify or Delete acts on; refused when absent, or when the instance or value asked is not the one kept. */
function existing(request: Request, key: KeyView, version: ProtocolVersion, name: string): CustomValue {
  const label = selectorLabel(request.selector);
  const current = heldCustomValue(key.customAttributes, name);
  if (current === undefined) throw refuse(version, 'AttributeNotFound', `the object has no ${label}`);
  if ((request.index ?? 0) !== 0) throw refuse(version, 'AttributeInstanceNotFound', `${label} has one value here, at index 0`);
  const given = request.current === undefined || request.current.value.type === 'Structure' ? undefined : sentCustomValue(label, request.current.value);
  if (request.current !== undefined && (given === undefined || !sameCustomValue(current, given))) {
    throw refuse(version, 'AttributeInstanceNotFound', `${label} does not hold the Current Attribute value given`);
  }
  return current;
}

async function changeCustom(change: Change, request: Request, object: ObjectView, ctx: KmipOperationContext, name: string): Promise<{ name: string; value: CustomValue }> {
  const { version } = ctx;
  const label = selectorLabel(request.selector);
  const has = heldCustomValue(object.key.customAttributes, name) !== undefined;
  if (change === 'DeleteAttribute') {
    const value = existing(request, object.key, version, name);
    await ctx.call('SetCustomAttributes', { instance: request.uid, remove: heldNativeNames(object.key.customAttributes, name) });
    return { name, value };
  }
  const value = customValue(request, version);
  if (change === 'AddAttribute' && has) throw refuse(version, 'AttributeSingleValued', `the object already has ${label}: Modify Attribute changes it`);
  if (change === 'ModifyAttribute') existing(request, object.key, version, name);
  await ctx.call('SetCustomAttributes', { instance: request.uid, ...customWrite(object.key.customAttributes, name, value) });
  return { name, value };
}

function refuseStandard(change: Change, request: Request, object: ObjectView, version: ProtocolVersion): never {
  const selector = request.selector;
  const label = selectorLabel(selector);
  if (selector.kind === 'foreign') throw refuse(version, 'UnsupportedAttribute', `${label} is another vendor's attribute: this server keeps only its own and x- attributes`);
  const tag = selector.kind === 'standard' ? selector.tag : '';
  const readOnly = change === 'AddAttribute' || change === 'SetAttribute' ? 'ReadOnlyAttribute' : 'AttributeReadOnly';
  if (tag === 'ActivationDate' && change !== 'DeleteAttribute') {
    if (object.instance.state !== 'PreActive') throw refuse(version, 'WrongKeyLifecycleState', `Activation Date: the object is ${object.instance.state}, not PreActive`);
    throw refuse(version, 'FeatureNotSupported', 'Activation Date: a pending activation date is not moved here; Activate activates the object now');
  }
  // A Name the object already has is not unique, whatever else would be said of adding one (KMIP 2.1 §6.1.2).
  if (tag === 'Name' && (change === 'AddAttribute' || change === 'SetAttribute') && sentName(request) === object.key.fullName) {
    throw refuse(version, 'NonUniqueNameAttribute', `${label}: the object is already named so`);
  }
  if ((REPORTED_TAGS as readonly string[]).includes(tag)) {
    throw refuse(version, readOnly, `${label} is kept by the server${READ_ONLY_WHY[tag] === undefined ? '' : `: ${READ_ONLY_WHY[tag]}`}`);
  }
  throw refuse(version, 'UnsupportedAttribute', `${label} is not an attribute this server keeps (custom attributes are ${CUSTOM_PREFIX}NAME)`);
}

/**
 * Description (one Text String per object; the key's description, through
 * SetCustomAttributes' `description`): Add refuses one the object has
 * (Attribute Single Valued), Modify and Delete one it lacks (Attribute Not
 * Found). Answers the value written (Delete: the value removed).
 */
async function changeDescription(change: Change, request: Request, object: ObjectView, ctx: KmipOperationContext): Promise<string> {
  const { version } = ctx;
  const current = object.key.description;
  if (change !== 'AddAttribute' && change !== 'SetAttribute' && current === '') throw refuse(version, 'AttributeNotFound', 'the object has no Description');
  if (request.current !== undefined && (request.current.value.type !== 'TextString' || request.current.value.value !== current)) {
    throw refuse(version, 'AttributeInstanceNotFound', 'Description does not hold the Current Attribute value given');
  }
  if (change === 'DeleteAttribute') {
    await ctx.call('SetCustomAttributes', { instance: request.uid, description: '' });
    return current;
  }
  if (change === 'AddAttribute' && current !== '') throw refuse(version, 'AttributeSingleValued', 'the object already has a Description: Modify Attribute changes it');
  if (request.value?.type !== 'TextString' || request.value.value === '') throw refuse(version, 'InvalidAttributeValue', 'Description must be a non-empty Text String');
  await ctx.call('SetCustomAttributes', { instance: request.uid, description: request.value.value });
  return request.value.value;
}

/** The full name a sent Name structure gives (a name without a namespace is in `default`, as on the native wire), or undefined. */
function sentName(request: Request): string | undefined {
  const value = request.value;
  if (value?.type !== 'Structure') return undefined;
  const text = value.value.find((child) => child.tag === tagNumberOf('NameValue'));
  if (text?.type !== 'TextString') return undefined;
  return text.value.includes('/') ? text.value : `default/${text.value}`;
}

function attributeChange(change: Change): KmipOperation {
  return {
    operation: change,
    async run(payload, ctx) {
      if (change === 'SetAttribute' && ctx.version.major < 2) throw new KmipOperationError('OperationNotSupported', 'Set Attribute is a KMIP 2.x operation: 1.x sets with Add or Modify Attribute');
      const request = readRequest(change, new PayloadReader(payload), ctx.version, ctx);
      const object = await describeObject(ctx, request.uid);
      if (request.selector.kind === 'standard' && isKeptTag(request.selector.tag)) {
        // Alternative Name, Object Group, …: kept for the client, several values each (kept-attribute-changes.ts).
        const echoed = await changeKept(change, request.selector.tag, request, object, ctx, (reason, message) => refuse(ctx.version, reason, message));
        return responsePayload([textItem('UniqueIdentifier', object.instance.name), echoed]);
      }
      if (request.selector.kind === 'standard' && request.selector.tag === 'Description') {
        const description = await changeDescription(change, request, object, ctx);
        const echo = ctx.version.major < 2 ? encodeAttributes([{ kind: 'standard', tag: 'Description', value: textItem('Description', description) }], ctx.version) : [];
        return responsePayload([textItem('UniqueIdentifier', object.instance.name), echo]);
      }
      if (request.selector.kind !== 'custom') refuseStandard(change, request, object, ctx.version);
      const done = await changeCustom(change, request, object, ctx, request.selector.name);
      // 1.x answers with the attribute (the new value; for Delete, the value deleted); 2.x with the identifier alone.
      const echo = ctx.version.major < 2 ? encodeAttributes([{ kind: 'custom', ...done }], ctx.version) : [];
      return responsePayload([textItem('UniqueIdentifier', object.instance.name), echo]);
    },
  };
}

export const addAttribute = attributeChange('AddAttribute');
export const modifyAttribute = attributeChange('ModifyAttribute');
export const deleteAttribute = attributeChange('DeleteAttribute');
/** 2.x only: 1.x has no Set Attribute. */
export const setAttribute = attributeChange('SetAttribute');
