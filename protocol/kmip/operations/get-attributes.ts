/**
 * Get Attributes and Get Attribute List (KMIP 2.1 §6.1.23–24, 1.4 §4.11–12):
 * the attributes of the object a Unique Identifier names, as the appliance
 * reports them (attribute-views.ts), through the native GetAttributes. The
 * attributes named are answered in the order named, those the object does
 * not have are left out (as the OASIS cases show); none named: all of them.
 */
import { encodeAttributeNames, encodeAttributes, objectAttributes } from './attribute-views';
import { readSelectors, selectAttributes } from './attribute-references';
import { KmipOperation } from './kmip-operation';
import { instanceNamed } from './instance-identifier';
import { describeObject } from './object-reference';
import { PayloadReader, responsePayload, structureItem, textItem } from './payload';

export const getAttributes: KmipOperation = {
  operation: 'GetAttributes',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const uid = instanceNamed(reader);
    const selectors = readSelectors(reader, ctx.version);
    reader.rejectOthers();
    const object = await describeObject(ctx, uid);
    const encoded = encodeAttributes(selectAttributes(objectAttributes(object, ctx.version), selectors), ctx.version);
    return responsePayload([textItem('UniqueIdentifier', object.instance.name), ctx.version.major >= 2 ? structureItem('Attributes', encoded) : encoded]);
  },
};

export const getAttributeList: KmipOperation = {
  operation: 'GetAttributeList',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const uid = instanceNamed(reader);
    reader.rejectOthers();
    const object = await describeObject(ctx, uid);
    return responsePayload([textItem('UniqueIdentifier', object.instance.name), encodeAttributeNames(objectAttributes(object, ctx.version), ctx.version)]);
  },
};
