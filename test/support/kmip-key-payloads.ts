/**
 * Request payloads of the KMIP key operations (Create, Register, Get, ReKey)
 * in the shape each version sends (1.x Template-Attribute of Attribute
 * {Attribute Name, Attribute Value}; 2.x Attributes of tagged attributes),
 * as the OASIS test cases write them; and readers of the answers.
 */
import { KmipTlsClient } from '../../scripts/kmip/kmip-tls-client';
import { tagNumber } from '../../protocol/kmip/dictionary';
import { ProtocolVersion, ResponseBatchItem } from '../../protocol/kmip/kmip-message';
import { bytesItem, dateItem, enumItem, integerItem, intervalItem, maskItem, PayloadReader, structureItem, textItem } from '../../protocol/kmip/operations/payload';
import { TtlvNode } from '../../protocol/kmip/ttlv';

export const V14: ProtocolVersion = { major: 1, minor: 4 };
export const V21: ProtocolVersion = { major: 2, minor: 1 };

export interface Attributes {
  readonly algorithm?: string;
  readonly length?: number;
  readonly usage?: readonly string[];
  readonly name?: string;
  /** Seconds since 1970. */
  readonly activationDate?: bigint;
}

/** One attribute in the shape of `version`: a tagged item (2.x) or Attribute {Attribute Name, Attribute Value} (1.x). */
function attribute(version: ProtocolVersion, label: string, value: TtlvNode): TtlvNode {
  if (version.major >= 2) return value;
  return structureItem('Attribute', [textItem('AttributeName', label), { ...value, tag: tagNumber('AttributeValue') as number } as TtlvNode]);
}

export function attributes(version: ProtocolVersion, wanted: Attributes): TtlvNode {
  const items = [
    wanted.algorithm === undefined ? undefined : attribute(version, 'Cryptographic Algorithm', enumItem('CryptographicAlgorithm', wanted.algorithm)),
    wanted.length === undefined ? undefined : attribute(version, 'Cryptographic Length', integerItem('CryptographicLength', wanted.length)),
    wanted.usage === undefined ? undefined : attribute(version, 'Cryptographic Usage Mask', maskItem('CryptographicUsageMask', wanted.usage)),
    wanted.name === undefined
      ? undefined
      : attribute(version, 'Name', structureItem('Name', [textItem('NameValue', wanted.name), enumItem('NameType', 'UninterpretedTextString')])),
    wanted.activationDate === undefined ? undefined : attribute(version, 'Activation Date', dateItem('ActivationDate', wanted.activationDate)),
  ];
  return structureItem(version.major >= 2 ? 'Attributes' : 'TemplateAttribute', items);
}

export function createPayload(version: ProtocolVersion, wanted: Attributes): TtlvNode {
  return structureItem('RequestPayload', [enumItem('ObjectType', 'SymmetricKey'), attributes(version, wanted)]);
}

export function registerSecretPayload(version: ProtocolVersion, secret: Uint8Array, wanted: Attributes): TtlvNode {
  return structureItem('RequestPayload', [
    enumItem('ObjectType', 'SecretData'),
    attributes(version, wanted),
    structureItem('SecretData', [
      enumItem('SecretDataType', 'Password'),
      structureItem('KeyBlock', [enumItem('KeyFormatType', 'Opaque'), structureItem('KeyValue', [bytesItem('KeyMaterial', secret)])]),
    ]),
  ]);
}

export function registerSymmetricPayload(version: ProtocolVersion, key: Uint8Array, wanted: Attributes): TtlvNode {
  return structureItem('RequestPayload', [
    enumItem('ObjectType', 'SymmetricKey'),
    attributes(version, wanted),
    structureItem('SymmetricKey', [
      structureItem('KeyBlock', [
        enumItem('KeyFormatType', 'Raw'),
        structureItem('KeyValue', [bytesItem('KeyMaterial', key)]),
        enumItem('CryptographicAlgorithm', 'AES'),
        integerItem('CryptographicLength', key.length * 8),
      ]),
    ]),
  ]);
}

export function getPayload(uid: string, format?: string, more: TtlvNode[] = []): TtlvNode {
  return structureItem('RequestPayload', [textItem('UniqueIdentifier', uid), format === undefined ? undefined : enumItem('KeyFormatType', format), ...more]);
}

export function reKeyPayload(uid: string, offsetSeconds?: number): TtlvNode {
  return structureItem('RequestPayload', [textItem('UniqueIdentifier', uid), offsetSeconds === undefined ? undefined : intervalItem('Offset', offsetSeconds)]);
}

/** The one batch item of an answer to `operation`. */
export async function callOne(client: KmipTlsClient, operation: string, payload: TtlvNode, version: ProtocolVersion): Promise<ResponseBatchItem> {
  const answer = await client.call(operation, payload, version);
  expect(answer.header.protocolVersion).toEqual(version);
  expect(answer.batchItems).toHaveLength(1);
  return answer.batchItems[0];
}

/** The payload of a successful item (fails the test with the item's reason and message otherwise). */
export function succeeded(item: ResponseBatchItem): PayloadReader {
  expect({ status: item.resultStatus, reason: item.resultReason, message: item.resultMessage }).toEqual({ status: 'Success', reason: undefined, message: undefined });
  return new PayloadReader(item.responsePayload as TtlvNode);
}

/** The Unique Identifier of a successful item's payload. */
export function uidOf(item: ResponseBatchItem): string {
  return succeeded(item).requiredText('UniqueIdentifier');
}

/** What a Get answered: its object type, and the Key Block's format, bytes, algorithm and length. */
export function gotObject(item: ResponseBatchItem): { objectType: string; uid: string; format: string; material: Buffer; algorithm?: string; length?: number; secretDataType?: string } {
  const payload = succeeded(item);
  const objectType = payload.enumName('ObjectType') as string;
  const uid = payload.requiredText('UniqueIdentifier');
  const object = payload.structure(objectType) as PayloadReader;
  const secretDataType = objectType === 'SecretData' ? object.enumName('SecretDataType') : undefined;
  const block = object.structure('KeyBlock') as PayloadReader;
  const format = block.enumName('KeyFormatType') as string;
  const value = block.structure('KeyValue') as PayloadReader;
  const material = format === 'TransparentSymmetricKey' ? (value.structure('KeyMaterial') as PayloadReader).bytes('Key') : value.bytes('KeyMaterial');
  return { objectType, uid, format, material: Buffer.from(material as Uint8Array), algorithm: block.enumName('CryptographicAlgorithm'), length: block.integer('CryptographicLength'), secretDataType };
}
