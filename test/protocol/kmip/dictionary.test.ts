/**
 * The KMIP dictionary (protocol/kmip/dictionary.ts and the tables generated
 * from the specifications): the tags and enumeration values the message layer
 * and the operations rely on, checked against the specifications' tables
 * (KMIP 2.1 §11-12, 1.4 §9.1.3), and the name normalization of the XML and
 * JSON encodings.
 */
import { enumeration, enumerationOfTag, KMIP_TAGS, mask, maskOfTag, normalizeKmipName, tagName, tagNumber, vocabularyTag } from '../../../protocol/kmip/dictionary';

const values = (table: string, names: Record<string, number>): void => {
  const found = enumeration(table) ?? mask(table);
  expect(found).toBeDefined();
  expect(Object.fromEntries(Object.keys(names).map((name) => [name, found!.byName.get(name)]))).toEqual(names);
};

describe('KMIP dictionary', () => {
  it('knows the tags of messages, batch items and attributes', () => {
    const tags = {
      ActivationDate: 0x420001, AsynchronousCorrelationValue: 0x420006, AttributeName: 0x42000a, AttributeValue: 0x42000b, BatchCount: 0x42000d,
      BatchErrorContinuationOption: 0x42000e, BatchItem: 0x42000f, CryptographicAlgorithm: 0x420028, CryptographicLength: 0x42002a,
      CryptographicUsageMask: 0x42002c, MaximumResponseSize: 0x420050, Operation: 0x42005c, ProtocolVersion: 0x420069,
      ProtocolVersionMajor: 0x42006a, ProtocolVersionMinor: 0x42006b, RequestMessage: 0x420078, ResponseMessage: 0x42007b,
      ResultMessage: 0x42007d, ResultReason: 0x42007e, ResultStatus: 0x42007f, TimeStamp: 0x420092, UniqueBatchItemID: 0x420093,
      UniqueIdentifier: 0x420094, TemplateAttribute: 0x420091, Attributes: 0x420125,
    };
    for (const [name, tag] of Object.entries(tags)) {
      expect([name, tagNumber(name)]).toEqual([name, tag]);
      expect(tagName(tag)).toBe(name);
    }
    expect(KMIP_TAGS.byValue.size).toBeGreaterThan(340);
    expect(tagNumber('NoSuchTag')).toBeUndefined();
  });

  it('knows the operations, object types, result statuses and reasons', () => {
    values('Operation', {
      Create: 0x01, Register: 0x03, ReKey: 0x04, Locate: 0x08, Get: 0x0a, GetAttributes: 0x0b, GetAttributeList: 0x0c, AddAttribute: 0x0d,
      ModifyAttribute: 0x0e, DeleteAttribute: 0x0f, Activate: 0x12, Revoke: 0x13, Destroy: 0x14, Query: 0x18, Cancel: 0x19, Poll: 0x1a,
      DiscoverVersions: 0x1e, Encrypt: 0x1f, Decrypt: 0x20, MAC: 0x23, MACVerify: 0x24, RNGRetrieve: 0x25, SetAttribute: 0x31,
    });
    values('ObjectType', { Certificate: 1, SymmetricKey: 2, PublicKey: 3, PrivateKey: 4, SplitKey: 5, Template: 6, SecretData: 7, OpaqueObject: 8 });
    values('ResultStatus', { Success: 0, OperationFailed: 1, OperationPending: 2, OperationUndone: 3 });
    values('ResultReason', {
      ItemNotFound: 1, ResponseTooLarge: 2, AuthenticationNotSuccessful: 3, InvalidMessage: 4, OperationNotSupported: 5, MissingData: 6,
      InvalidField: 7, FeatureNotSupported: 8, OperationCanceledByRequester: 9, CryptographicFailure: 0x0a, IllegalOperation: 0x0b,
      PermissionDenied: 0x0c, ObjectArchived: 0x0d, GeneralFailure: 0x100,
    });
    values('BatchErrorContinuationOption', { Continue: 1, Stop: 2, Undo: 3 });
  });

  it('knows the cryptographic vocabulary and the lifecycle', () => {
    values('CryptographicAlgorithm', { DES: 1, DES3: 2, AES: 3, RSA: 4, DSA: 5, ECDSA: 6, HMAC_SHA1: 7, HMAC_SHA256: 9, HMAC_SHA512: 0x0b });
    values('KeyFormatType', { Raw: 1, Opaque: 2, PKCS_1: 3, PKCS_8: 4, X_509: 5, TransparentSymmetricKey: 7 });
    values('State', { PreActive: 1, Active: 2, Deactivated: 3, Compromised: 4, Destroyed: 5, DestroyedCompromised: 6 });
    values('NameType', { UninterpretedTextString: 1, URI: 2 });
    values('BlockCipherMode', { CBC: 1, ECB: 2, CTR: 6, GCM: 9 });
    values('PaddingMethod', { None: 1, OAEP: 2, PKCS5: 3 });
    values('HashingAlgorithm', { MD5: 3, SHA_1: 4, SHA_256: 6, SHA_384: 7, SHA_512: 8 });
    values('RevocationReasonCode', { Unspecified: 1, KeyCompromise: 2, CACompromise: 3, Superseded: 5, CessationOfOperation: 6 });
    values('LinkType', { CertificateLink: 0x101, PublicKeyLink: 0x102, PrivateKeyLink: 0x103, ReplacementObjectLink: 0x106, ReplacedObjectLink: 0x107 });
    values('QueryFunction', { QueryOperations: 1, QueryObjects: 2, QueryServerInformation: 3, QueryApplicationNamespaces: 4 });
    values('CryptographicUsageMask', { Sign: 0x1, Verify: 0x2, Encrypt: 0x4, Decrypt: 0x8, WrapKey: 0x10, UnwrapKey: 0x20, MACGenerate: 0x80, MACVerify: 0x100 });
  });

  it('finds each tag\'s enumeration or mask, with the exceptions the specification names', () => {
    expect(enumerationOfTag(tagNumber('ObjectType')!)?.name).toBe('ObjectType');
    expect(enumerationOfTag(tagNumber('MaskGeneratorHashingAlgorithm')!)?.name).toBe('HashingAlgorithm');
    expect(enumerationOfTag(tagNumber('AttributeReference')!)?.byName.get('CryptographicAlgorithm')).toBe(0x420028);
    expect(maskOfTag(tagNumber('CryptographicUsageMask')!)?.name).toBe('CryptographicUsageMask');
    expect(maskOfTag(tagNumber('CryptographicLength')!)).toBeUndefined();
  });

  it('takes an Attribute Value\'s vocabulary from the Attribute Name before it', () => {
    const name = (value: string) => ({ tag: 0x42000a, type: 'TextString' as const, value });
    expect(vocabularyTag(0x42000b, [name('Cryptographic Algorithm')])).toBe(0x420028);
    expect(vocabularyTag(0x42000b, [name('State'), name('Object Type')], 1)).toBe(tagNumber('State'));
    expect(vocabularyTag(0x42000b, [name('x-custom')])).toBe(0x42000b);
    expect(vocabularyTag(0x42000b, [])).toBe(0x42000b);
    expect(vocabularyTag(0x420028, [name('State')])).toBe(0x420028);
  });

  it('normalizes specification names as the XML and JSON encodings do', () => {
    const cases: Record<string, string> = {
      'Pre-Active': 'PreActive', 'X.509': 'X_509', '3DES': 'DES3', 'SHA-256': 'SHA_256', 'HMAC-SHA256': 'HMAC_SHA256', 'PKCS#1': 'PKCS_1',
      'Uninterpreted Text String': 'UninterpretedTextString', 'Non-unique Name Attribute': 'NonUniqueNameAttribute', 'ANSI X9.31': 'ANSIX9_31',
      'Cryptographic Usage Mask': 'CryptographicUsageMask', 'P-256': 'P_256', 'Transparent DSA Private Key': 'TransparentDSAPrivateKey', '': '',
    };
    for (const [text, normalized] of Object.entries(cases)) expect([text, normalizeKmipName(text)]).toEqual([text, normalized]);
  });
});
