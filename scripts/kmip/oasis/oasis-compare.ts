/**
 * Holds a server's Response Message against the expected one of an OASIS
 * case and reports the first difference: where in the tree, what was
 * expected, what came (described by oasis-describe.ts: no key bytes). Tags,
 * types, order and values are compared exactly but for the relaxations of
 * oasis-rules.ts; placeholders bind on first sight (`$UNIQUE_IDENTIFIER_0`
 * becomes what the server returned there) and must hold their value after;
 * `$NOW±n` must fall within the case's span.
 */
import { enumeration } from '../../../protocol/kmip/dictionary';
import { PrimitiveNode } from '../../../protocol/kmip/kmip-text-values';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { CaseBindings } from './oasis-bindings';
import { describeItem, describeValue, nameOfTag } from './oasis-describe';
import {
  ATTRIBUTES_A_REFERENCE_MAY_OMIT, IGNORED_TAGS, OPTIONAL_SERVER_KINDS, OPTIONAL_TAGS, RANDOM_BYTE_TAGS, SERVER_DESCRIBING_ATTRIBUTE_NAMES, SERVER_DESCRIBING_ATTRIBUTES, SERVER_DESCRIBING_OPERATIONS,
  SERVER_DESCRIBING_REQUIRED, SERVER_IV_OPERATIONS, SERVER_IV_TAG, SET_ITEM_TAGS, SET_PARENT_TAGS, tag,
} from './oasis-rules';
import { randomItemsOf } from './oasis-generated';
import { isPlaceholder, NOW_PLACEHOLDER, PlaceholderNode, TemplateNode } from './oasis-template';

export interface Difference {
  /** Where: `ResponseMessage/BatchItem/ResponsePayload/Attributes/State`. */
  readonly path: string;
  readonly expected: string;
  readonly got: string;
}

interface Walk {
  readonly bindings: CaseBindings;
  /** Per batch item of the request: are its answer's derived Byte Strings random (oasis-rules.ts)? */
  readonly randomItems: readonly boolean[];
  /** Inside a batch item whose derived Byte Strings are compared by length. */
  readonly lengthOnly: boolean;
  /** Inside the successful answer of an operation that describes the server (Query). */
  readonly describesServer: boolean;
}

const BATCH_ITEM = tag('BatchItem');
const OPERATION = tag('Operation');
const RESULT_STATUS = tag('ResultStatus');
const RESPONSE_PAYLOAD = tag('ResponsePayload');
const RESULT_REASON = tag('ResultReason');
const RESULT_MESSAGE = tag('ResultMessage');
const ATTRIBUTE = tag('Attribute');
const ATTRIBUTE_NAME = tag('AttributeName');
const ATTRIBUTE_VALUE = tag('AttributeValue');
const SUCCESS = enumeration('ResultStatus')!.byName.get('Success');

function difference(path: string, expected: string, got: string): Difference {
  return { path, expected, got };
}

/** Plain trees only: placeholders cannot describe an enumeration's vocabulary. */
function plain(nodes: readonly TemplateNode[]): TtlvNode[] {
  return nodes.filter((node): node is TtlvNode => !isPlaceholder(node));
}

/**
 * The first difference between the expected answer and the one the server
 * gave to `request`, or undefined when they agree. Binds the placeholders
 * the expected answer holds as it goes.
 */
export function compareResponse(expected: TemplateNode, got: TtlvNode, request: TtlvNode, bindings: CaseBindings): Difference | undefined {
  const walk: Walk = { bindings, randomItems: randomItemsOf(request, bindings, got), lengthOnly: false, describesServer: false };
  const root = nameOfTag(expected.tag);
  return compareItemsFirst(expected, got, root, walk) ?? compareNode(expected, got, root, walk, 0, [], []);
}

/**
 * The batch items given, before anything else: when an item fails, the
 * header's Batch Count differs too (a batch that stops at its first failure
 * answers fewer items), and the item says why.
 */
function compareItemsFirst(expected: TemplateNode, got: TtlvNode, root: string, walk: Walk): Difference | undefined {
  if (expected.tag !== got.tag || expected.type !== 'Structure' || got.type !== 'Structure') return undefined;
  const expectedItems = expected.value.filter((child) => child.tag === BATCH_ITEM);
  const gotItems = got.value.filter((child) => child.tag === BATCH_ITEM);
  for (let i = 0; i < Math.min(expectedItems.length, gotItems.length); i++) {
    const found = compareNode(expectedItems[i], gotItems[i], `${root}/${label(expectedItems[i], expectedItems, i)}`, walk, i, expectedItems, gotItems);
    if (found) return found;
  }
  return undefined;
}

function compareNode(expected: TemplateNode, got: TtlvNode, path: string, walk: Walk, occurrence: number, expectedSiblings: readonly TemplateNode[], gotSiblings: readonly TtlvNode[]): Difference | undefined {
  if (expected.tag !== got.tag) return difference(path, nameOfTag(expected.tag), nameOfTag(got.tag));
  if (expected.type !== got.type) return difference(path, `a ${expected.type}`, `a ${got.type}`);
  if (isPlaceholder(expected)) return comparePlaceholder(expected, got as PrimitiveNode, path, walk, gotSiblings);
  if (expected.type === 'Structure') {
    if (describesServer(expected, expectedSiblings)) return compareServerDescription(got.value as readonly TtlvNode[], path);
    if (expected.tag !== BATCH_ITEM) return compareChildren(expected.value, got.value as readonly TtlvNode[], path, walk, expected.tag);
    const found = compareChildren(expected.value, got.value as readonly TtlvNode[], path, batchItemWalk(expected.value, walk, occurrence), expected.tag);
    return found && withRefusal(found, path, got.value as readonly TtlvNode[]);
  }
  return comparePrimitive(expected, got as PrimitiveNode, path, walk, plain(expectedSiblings), gotSiblings);
}

/** A server-describing attribute's value (oasis-rules.ts): 2.x by its tag, 1.x by the Attribute Name beside it. */
function describesServer(expected: TemplateNode, siblings: readonly TemplateNode[]): boolean {
  if (SERVER_DESCRIBING_ATTRIBUTES.has(expected.tag)) return true;
  if (expected.tag !== ATTRIBUTE_VALUE) return false;
  const name = plain(siblings).find((sibling) => sibling.tag === ATTRIBUTE_NAME);
  return name?.type === 'TextString' && SERVER_DESCRIBING_ATTRIBUTE_NAMES.has(name.value);
}

function compareServerDescription(got: readonly TtlvNode[], path: string): Difference | undefined {
  const given = new Set(got.map((node) => node.tag));
  const missing = [...SERVER_DESCRIBING_REQUIRED].find((required) => !given.has(required));
  return missing === undefined ? undefined : difference(path, `this server's own description, with a ${nameOfTag(missing)}`, `a Structure without one`);
}

function batchItemWalk(children: readonly TemplateNode[], walk: Walk, index: number): Walk {
  const operationItem = plain(children).find((child) => child.tag === OPERATION);
  const statusItem = plain(children).find((child) => child.tag === RESULT_STATUS);
  const operation = operationItem?.type === 'Enumeration' ? enumeration('Operation')!.byValue.get(operationItem.value) : undefined;
  const succeeded = statusItem?.type === 'Enumeration' && statusItem.value === SUCCESS;
  const payload = plain(children).find((child) => child.tag === RESPONSE_PAYLOAD);
  const serverIv = operation !== undefined && SERVER_IV_OPERATIONS.has(operation) && payload?.type === 'Structure' && payload.value.some((child) => child.tag === SERVER_IV_TAG);
  return { ...walk, lengthOnly: (walk.randomItems[index] ?? false) || serverIv, describesServer: succeeded && operation !== undefined && SERVER_DESCRIBING_OPERATIONS.has(operation) };
}

/**
 * A difference in an item's outcome, told with the server's Result Reason
 * and Result Message when it refused: `OperationFailed (ItemNotFound:
 * "KEY_NOT_FOUND: …")` says what to fix; the message is the server's own
 * words and codes, never key material.
 */
function withRefusal(found: Difference, itemPath: string, item: readonly TtlvNode[]): Difference {
  const atStatus = found.path === `${itemPath}/${nameOfTag(RESULT_STATUS)}`;
  if (!atStatus && found.path !== `${itemPath}/${nameOfTag(RESULT_REASON)}`) return found;
  const reason = atStatus ? item.find((child) => child.tag === RESULT_REASON) : undefined;
  const message = item.find((child) => child.tag === RESULT_MESSAGE);
  const told = [reason && describeValue(reason), message && describeValue(message)].filter((part) => part !== undefined).join(': ');
  return told.length === 0 ? found : { ...found, got: `${found.got} (${told})` };
}

/** `Tag`, or `Tag[k]` when the tag repeats among the siblings. */
function label(node: TemplateNode, siblings: readonly TemplateNode[], occurrence: number): string {
  const repeated = siblings.filter((sibling) => sibling.tag === node.tag).length > 1;
  return repeated ? `${nameOfTag(node.tag)}[${occurrence}]` : nameOfTag(node.tag);
}

function occurrences(nodes: readonly TemplateNode[]): number[] {
  const seen = new Map<number, number>();
  return nodes.map((node) => {
    const count = seen.get(node.tag) ?? 0;
    seen.set(node.tag, count + 1);
    return count;
  });
}

function compareChildren(expectedAll: readonly TemplateNode[], gotAll: readonly TtlvNode[], path: string, walk: Walk, parentTag: number): Difference | undefined {
  const expected = expectedAll.filter((child) => !IGNORED_TAGS.has(child.tag));
  const expectedTags = new Set(expected.map((child) => child.tag));
  const got = gotAll.filter((child) => !IGNORED_TAGS.has(child.tag) && !(OPTIONAL_TAGS.has(child.tag) && !expectedTags.has(child.tag)));
  if (walk.describesServer && parentTag === RESPONSE_PAYLOAD) return compareKinds(expected, got, path);
  const inSet = (child: TemplateNode): boolean => SET_PARENT_TAGS.has(parentTag) || SET_ITEM_TAGS.has(child.tag);
  const expectedOrdered = expected.filter((child) => !inSet(child));
  const gotOrdered = got.filter((child) => !inSet(child));
  const expectedCounts = occurrences(expectedOrdered);
  const gotCounts = occurrences(gotOrdered);
  for (let i = 0; i < Math.max(expectedOrdered.length, gotOrdered.length); i++) {
    const [want, have] = [expectedOrdered[i], gotOrdered[i]];
    if (have === undefined) return difference(`${path}/${label(want, expectedOrdered, expectedCounts[i])}`, describeItem(want, plain(expectedOrdered)), 'nothing');
    if (want === undefined) return difference(`${path}/${label(have, gotOrdered, gotCounts[i])}`, 'nothing', describeItem(have, gotOrdered));
    // All the siblings, not only the ordered ones: an Attribute Value's vocabulary is its sibling Attribute Name's.
    const found = compareNode(want, have, `${path}/${label(want, expectedOrdered, expectedCounts[i])}`, walk, expectedCounts[i], expected, got);
    if (found) return found;
  }
  return compareSet(expected.filter(inSet), got.filter(inSet), path, walk);
}

/**
 * What an item of a set is paired by, so that a difference is told against
 * its counterpart, not against whatever came first: a 1.x Attribute by its
 * Attribute Name, a listed name or reference by its value, anything else
 * by its tag; undefined (any item of the tag) for a placeholder.
 */
function setKey(node: TemplateNode): string | undefined {
  if (isPlaceholder(node)) return undefined;
  if (node.type === 'Structure') {
    const name = plain(node.value).find((child) => child.tag === ATTRIBUTE_NAME);
    return name?.type === 'TextString' ? `${node.tag}|${name.value}` : `${node.tag}`;
  }
  return SET_ITEM_TAGS.has(node.tag) ? `${node.tag}|${describeValue(node)}` : `${node.tag}`;
}

/** A 1.x Attribute the reference answers may leave out (ATTRIBUTES_A_REFERENCE_MAY_OMIT): given beyond them, it is no difference. */
function mayBeOmitted(node: TtlvNode): boolean {
  if (node.type !== 'Structure' || node.tag !== ATTRIBUTE) return false;
  const name = node.value.find((child) => child.tag === ATTRIBUTE_NAME);
  return name?.type === 'TextString' && ATTRIBUTES_A_REFERENCE_MAY_OMIT.has(name.value);
}

/** Items of a set: each expected one must match a distinct item given, in any order, and nothing may be left over. */
function compareSet(expected: readonly TemplateNode[], got: readonly TtlvNode[], path: string, walk: Walk): Difference | undefined {
  const used = new Set<number>();
  const expectedCounts = occurrences(expected);
  for (const [i, want] of expected.entries()) {
    const wantPath = `${path}/${label(want, expected, expectedCounts[i])}`;
    let first: Difference | undefined;
    let matched = false;
    const key = setKey(want);
    for (const [j, have] of got.entries()) {
      if (used.has(j) || have.tag !== want.tag || (key !== undefined && setKey(have) !== key)) continue;
      const before = walk.bindings.snapshot();
      const found = compareNode(want, have, wantPath, walk, expectedCounts[i], expected, got);
      if (!found) {
        used.add(j);
        matched = true;
        break;
      }
      walk.bindings.restore(before);
      first ??= found;
    }
    if (!matched) return first ?? difference(wantPath, describeItem(want, plain(expected)), 'nothing');
  }
  const extra = got.findIndex((node, j) => !used.has(j) && !mayBeOmitted(node));
  return extra < 0 ? undefined : difference(`${path}/${nameOfTag(got[extra].tag)}`, 'nothing', describeItem(got[extra], got));
}

/** A server-describing payload: the same kinds of item answered (Operation, ObjectType, …), whatever the lists. */
function compareKinds(expected: readonly TemplateNode[], got: readonly TtlvNode[], path: string): Difference | undefined {
  const given = new Set(got.map((node) => node.tag));
  const kinds = (nodes: readonly TemplateNode[]): string => [...new Set(nodes.map((node) => nameOfTag(node.tag)))].sort().join(', ') || 'nothing';
  const [want, have] = [kinds(expected.filter((node) => given.has(node.tag) || !OPTIONAL_SERVER_KINDS.has(node.tag))), kinds(got)];
  return want === have ? undefined : difference(path, `items of the kinds ${want}`, `items of the kinds ${have}`);
}

function sameValue(a: PrimitiveNode, b: PrimitiveNode): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'ByteString') return Buffer.from(a.value).equals(Buffer.from(b.value as Uint8Array));
  return a.value === b.value;
}

function comparePrimitive(expected: PrimitiveNode, got: PrimitiveNode, path: string, walk: Walk, expectedSiblings: readonly TtlvNode[], gotSiblings: readonly TtlvNode[]): Difference | undefined {
  if (expected.type === 'ByteString' && walk.lengthOnly && RANDOM_BYTE_TAGS.has(expected.tag)) {
    const length = (got.value as Uint8Array).length;
    return expected.value.length === length ? undefined : difference(path, `${describeValue(expected)} (random by nature: its length is compared)`, describeValue(got));
  }
  if (sameValue(expected, got)) return undefined;
  const [want, have] = [describeValue(expected, expectedSiblings), describeValue(got, gotSiblings)];
  // Equal descriptions (two Byte Strings of one length) must still read as different.
  return difference(path, want, want === have ? `other content: ${have}` : have);
}

function comparePlaceholder(expected: PlaceholderNode, got: PrimitiveNode, path: string, walk: Walk, gotSiblings: readonly TtlvNode[]): Difference | undefined {
  if (expected.placeholder === NOW_PLACEHOLDER && got.type === 'DateTime') {
    const [from, to] = walk.bindings.nowWindow(expected.offsetSeconds);
    if (got.value >= from && got.value <= to) return undefined;
    return difference(path, `${describeValue(expected)}: between ${describeValue({ ...got, value: from })} and ${describeValue({ ...got, value: to })}`, describeValue(got));
  }
  const bound = walk.bindings.bound(expected.placeholder);
  if (bound === undefined) {
    walk.bindings.bind(expected.placeholder, got);
    return undefined;
  }
  if (sameValue(bound, got)) return undefined;
  const [want, have] = [describeValue(bound), describeValue(got, gotSiblings)];
  return difference(path, `${expected.placeholder}, bound to ${want}`, want === have ? `other content: ${have}` : have);
}
