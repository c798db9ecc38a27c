/**
 * Get Attributes and Get Attribute List (KMIP 2.1 §6.1.23–24, 1.4 §4.11–12):
 * the attributes of the object a Unique Identifier names, as the appliance
 * reports them (attribute-views.ts), through the native GetAttributes. The
 * attributes named are answered in the order named, those the object does
 * not have are left out (as the OASIS cases show); none named: all of them.
 */
import { encodeAttributeNames, encodeAttributes, objectAttributes } from './attribute-views';
import { AttributeSelector, readSelectors, selectAttributes } from './attribute-references';
import { KmipOperation } from './kmip-operation';
import { instanceNamed } from './instance-identifier';
import { describeObject } from './object-reference';
import { PayloadReader, responsePayload, structureItem, textItem } from './payload';

/** The digest is computed from the material: only when the request names it, or names nothing (all attributes). */
const wantsDigest = (selectors: readonly AttributeSelector[]): boolean =>
  selectors.length === 0 || selectors.some((selector) => selector.kind === 'standard' && selector.tag === 'Digest');

export const getAttributes: KmipOperation = {
  operation: 'GetAttributes',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const uid = instanceNamed(reader, ctx);
    const selectors = readSelectors(reader, ctx.version);
    reader.rejectOthers();
    const object = await describeObject(ctx, uid, wantsDigest(selectors));
    const encoded = encodeAttributes(selectAttributes(objectAttributes(object, ctx.version), selectors), ctx.version);
    return responsePayload([textItem('UniqueIdentifier', object.instance.name), ctx.version.major >= 2 ? structureItem('Attributes', encoded) : encoded]);
  },
};

export const getAttributeList: KmipOperation = {
  operation: 'GetAttributeList',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const uid = instanceNamed(reader, ctx);
    reader.rejectOthers();
    // The list names Digest only where there is one to give (not for Secret Data, nor once destroyed).
    const object = await describeObject(ctx, uid, true);
    return responsePayload([textItem('UniqueIdentifier', object.instance.name), encodeAttributeNames(objectAttributes(object, ctx.version), ctx.version)]);
  },
};
