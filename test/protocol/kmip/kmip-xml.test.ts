/**
 * The KMIP XML encoding (protocol/kmip/kmip-xml.ts, xml-reader.ts and
 * kmip-text-values.ts): each type's spellings, unknown tags as <TTLV>, the
 * test-case placeholders, and a numbered table of hostile XML, one row per
 * rule, with the stable reason expected.
 */
import { formatKmipXml, KMIP_MAX_TEXT_CHARS, parseKmipXml, parseKmipXmlDocument } from '../../../protocol/kmip/kmip-xml';
import { KmipCodecError, KmipCodecReason } from '../../../protocol/kmip/kmip-codec-error';
import { KMIP_MAX_DEPTH, TtlvNode } from '../../../protocol/kmip/ttlv';

const one = (element: string): TtlvNode => parseKmipXml(element, { now: 1000n });
const valueOf = (element: string): unknown => one(element).value;

function reasonOf(run: () => unknown): KmipCodecReason | null {
  try {
    run();
    return null;
  } catch (error) {
    if (!(error instanceof KmipCodecError)) throw error;
    return error.reason;
  }
}

describe('KMIP XML encoding', () => {
  it('reads each type in the spellings the encoding allows', () => {
    expect(valueOf('<BatchCount type="Integer" value="-5"/>')).toBe(-5);
    expect(valueOf('<BatchCount type="Integer" value="0xFFFFFFFF"/>')).toBe(-1);
    expect(valueOf('<CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>')).toBe(12);
    expect(valueOf('<CryptographicUsageMask type="Integer" value="Sign|Verify|0x00000080"/>')).toBe(0x83);
    expect(valueOf('<CryptographicUsageMask type="Integer" value="12"/>')).toBe(12);
    expect(valueOf('<UsageLimitsTotal type="LongInteger" value="-9223372036854775808"/>')).toBe(-(1n << 63n));
    expect(valueOf('<UsageLimitsTotal type="LongInteger" value="0xFFFFFFFFFFFFFFFE"/>')).toBe(-2n);
    expect(valueOf('<Modulus type="BigInteger" value="0000000000010001"/>')).toBe(65537n);
    expect(valueOf('<Modulus type="BigInteger" value="0xFFFFFFFFFFFFFFFF"/>')).toBe(-1n);
    expect(valueOf('<ObjectType type="Enumeration" value="SymmetricKey"/>')).toBe(2);
    expect(valueOf('<ObjectType type="Enumeration" value="0x80000001"/>')).toBe(0x80000001);
    expect(valueOf('<Sensitive type="Boolean" value="true"/>')).toBe(true);
    expect(valueOf('<Sensitive type="Boolean" value="0x0000000000000000"/>')).toBe(false);
    expect(valueOf('<Name type="TextString" value="a &lt;&amp;&gt; &quot;b&quot; &apos;c&apos; &#x263A; &#65;"/>')).toBe('a <&> "b" \'c\' \u263a A');
    expect(valueOf('<KeyMaterial type="ByteString" value="00FFab"/>')).toEqual(new Uint8Array([0, 255, 171]));
    expect(valueOf('<ActivationDate type="DateTime" value="2008-03-14T11:56:40Z"/>')).toBe(1205495800n);
    expect(valueOf('<ActivationDate type="DateTime" value="2000-02-02T00:00:00+10:00"/>')).toBe(949413600n);
    expect(valueOf('<ActivationDate type="DateTime" value="1969-12-31T23:59:59-00:00"/>')).toBe(-1n);
    expect(valueOf('<ActivationDate type="DateTime" value="$NOW-3600"/>')).toBe(-2600n);
    expect(valueOf('<ActivationDate type="DateTime" value="0x0000000047DA67F8"/>')).toBe(1205495800n);
    expect(valueOf('<LeaseTime type="Interval" value="4294967295"/>')).toBe(0xffffffff);
    expect(valueOf('<ActivationDate type="DateTimeExtended" value="1970-01-01T00:00:01.5Z"/>')).toBe(1_500_000n);
  });

  it('writes what it reads back, in the test cases\' layout', () => {
    const xml = [
      '<RequestMessage>',
      '  <BatchCount type="Integer" value="1"/>',
      '  <Attribute>',
      '    <AttributeName type="TextString" value="State"/>',
      '    <AttributeValue type="Enumeration" value="PreActive"/>',
      '  </Attribute>',
      '  <TTLV tag="0x540001" type="ByteString" value="0102"/>',
      '  <ActivationDate type="DateTime" value="2000-02-01T14:00:00+00:00"/>',
      '  <Name type="TextString" value="tab&#x9;newline&#xA;&lt;"/>',
      '  <Payload/>',
      '</RequestMessage>',
      '',
    ].join('\n').replace('Payload', 'RequestPayload');
    expect(formatKmipXml(one(xml))).toBe(xml);
  });

  it('reads a test-case file: messages inside <KMIP>, comments and an XML declaration around them', () => {
    const doc = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<KMIP>\n<!-- c -->\n<RequestMessage/>\n<ResponseMessage/>\n</KMIP>\n';
    expect(parseKmipXmlDocument(doc).map((node) => node.tag)).toEqual([0x420078, 0x42007b]);
  });

  it('resolves Byte String placeholders only through the hook given', () => {
    const xml = '<KeyMaterial type="ByteString" value="$KEY_MATERIAL_0"/>';
    expect(reasonOf(() => parseKmipXml(xml))).toBe('UNRESOLVED_PLACEHOLDER');
    expect(parseKmipXml(xml, { placeholder: (text) => (text === '$KEY_MATERIAL_0' ? new Uint8Array([7]) : undefined) }).value).toEqual(new Uint8Array([7]));
    expect(valueOf('<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>')).toBe('$UNIQUE_IDENTIFIER_0');
  });

  it('refuses to write text XML cannot carry', () => {
    expect(reasonOf(() => formatKmipXml({ tag: 0x420055, type: 'TextString', value: 'a\u0001' }))).toBe('BAD_VALUE');
  });
});

interface Row {
  readonly name: string;
  readonly xml: string;
  readonly reason: KmipCodecReason | null;
  /** Parse without a `now` to resolve $NOW (the other rows give one). */
  readonly withoutNow?: boolean;
}

const nest = (depth: number): string => '<Attribute>'.repeat(depth - 1) + '<BatchCount type="Integer" value="1"/>' + '</Attribute>'.repeat(depth - 1);

const ROWS: Row[] = [
  { name: 'x01_doctype_refused', xml: '<!DOCTYPE x [<!ENTITY a "b">]><BatchCount type="Integer" value="1"/>', reason: 'XML_SYNTAX' },
  { name: 'x02_cdata_refused', xml: '<RequestMessage><![CDATA[x]]></RequestMessage>', reason: 'XML_SYNTAX' },
  { name: 'x03_processing_instruction_refused', xml: '<RequestMessage><?php x?></RequestMessage>', reason: 'XML_SYNTAX' },
  { name: 'x04_undefined_entity', xml: '<Name type="TextString" value="&lol;"/>', reason: 'XML_SYNTAX' },
  { name: 'x05_bare_ampersand', xml: '<Name type="TextString" value="a & b"/>', reason: 'XML_SYNTAX' },
  { name: 'x06_reference_to_nul', xml: '<Name type="TextString" value="&#0;"/>', reason: 'XML_SYNTAX' },
  { name: 'x07_reference_past_10ffff', xml: '<Name type="TextString" value="&#x110000;"/>', reason: 'XML_SYNTAX' },
  { name: 'x08_raw_control_character', xml: '<Name type="TextString" value="a\u0001"/>', reason: 'XML_SYNTAX' },
  { name: 'x09_unclosed_element', xml: '<RequestMessage>', reason: 'XML_SYNTAX' },
  { name: 'x10_mismatched_end_tag', xml: '<RequestMessage></ResponseMessage>', reason: 'XML_SYNTAX' },
  { name: 'x11_text_content', xml: '<RequestMessage>hello</RequestMessage>', reason: 'XML_SYNTAX' },
  { name: 'x12_two_roots', xml: '<RequestMessage/><RequestMessage/>', reason: 'XML_SYNTAX' },
  { name: 'x13_duplicate_attribute', xml: '<BatchCount type="Integer" value="1" value="2"/>', reason: 'XML_SYNTAX' },
  { name: 'x14_unquoted_attribute', xml: '<BatchCount type=Integer value="1"/>', reason: 'XML_SYNTAX' },
  { name: 'x15_lt_in_attribute', xml: '<Name type="TextString" value="<"/>', reason: 'XML_SYNTAX' },
  { name: 'x16_double_dash_in_comment', xml: '<!-- a -- b --><RequestMessage/>', reason: 'XML_SYNTAX' },
  { name: 'x17_namespace_prefix', xml: '<k:RequestMessage/>', reason: 'XML_SYNTAX' },
  { name: 'x18_empty_document', xml: '  ', reason: 'XML_SYNTAX' },
  { name: 'x19_unknown_tag_name', xml: '<NoSuchTag type="Integer" value="1"/>', reason: 'UNKNOWN_TAG' },
  { name: 'x20_ttlv_without_tag', xml: '<TTLV type="Integer" value="1"/>', reason: 'BAD_SHAPE' },
  { name: 'x21_ttlv_tag_not_42_or_54', xml: '<TTLV tag="0x430001" type="Integer" value="1"/>', reason: 'BAD_TAG' },
  { name: 'x22_unknown_type', xml: '<BatchCount type="Float" value="1"/>', reason: 'UNKNOWN_ITEM_TYPE' },
  { name: 'x23_unexpected_attribute', xml: '<BatchCount type="Integer" value="1" note="x"/>', reason: 'BAD_SHAPE' },
  { name: 'x24_structure_with_value', xml: '<RequestMessage value="1"/>', reason: 'BAD_SHAPE' },
  { name: 'x25_primitive_with_children', xml: '<BatchCount type="Integer" value="1"><BatchCount type="Integer" value="1"/></BatchCount>', reason: 'BAD_SHAPE' },
  { name: 'x26_primitive_without_value', xml: '<BatchCount type="Integer"/>', reason: 'BAD_SHAPE' },
  { name: 'x27_integer_over_int32', xml: '<BatchCount type="Integer" value="2147483648"/>', reason: 'BAD_VALUE' },
  { name: 'x28_integer_leading_zero', xml: '<BatchCount type="Integer" value="01"/>', reason: 'BAD_VALUE' },
  { name: 'x29_integer_hex_of_7_digits', xml: '<BatchCount type="Integer" value="0x0000001"/>', reason: 'BAD_VALUE' },
  { name: 'x30_unknown_mask_flag', xml: '<CryptographicUsageMask type="Integer" value="Encrypt Fly"/>', reason: 'UNKNOWN_ENUMERATION' },
  { name: 'x31_mask_names_on_a_plain_integer', xml: '<BatchCount type="Integer" value="Encrypt"/>', reason: 'BAD_VALUE' },
  { name: 'x32_long_integer_over_int64', xml: '<UsageLimitsTotal type="LongInteger" value="9223372036854775808"/>', reason: 'BAD_VALUE' },
  { name: 'x33_big_integer_odd_hex', xml: '<Modulus type="BigInteger" value="123"/>', reason: 'BAD_VALUE' },
  { name: 'x34_unknown_enumeration_name', xml: '<ObjectType type="Enumeration" value="Banana"/>', reason: 'UNKNOWN_ENUMERATION' },
  { name: 'x35_enumeration_name_of_another_enumeration', xml: '<ObjectType type="Enumeration" value="AES"/>', reason: 'UNKNOWN_ENUMERATION' },
  { name: 'x36_attribute_value_named_by_its_attribute', xml: '<Attribute><AttributeName type="TextString" value="Object Type"/><AttributeValue type="Enumeration" value="AES"/></Attribute>', reason: 'UNKNOWN_ENUMERATION' },
  { name: 'x37_boolean_yes', xml: '<Sensitive type="Boolean" value="yes"/>', reason: 'BAD_VALUE' },
  { name: 'x38_byte_string_odd_hex', xml: '<KeyMaterial type="ByteString" value="abc"/>', reason: 'BAD_VALUE' },
  { name: 'x39_date_february_30', xml: '<ActivationDate type="DateTime" value="2001-02-30T00:00:00Z"/>', reason: 'BAD_VALUE' },
  { name: 'x40_date_without_zone', xml: '<ActivationDate type="DateTime" value="2001-02-03T00:00:00"/>', reason: 'BAD_VALUE' },
  { name: 'x41_date_time_with_fraction', xml: '<ActivationDate type="DateTime" value="2001-02-03T00:00:00.5Z"/>', reason: 'BAD_VALUE' },
  { name: 'x42_date_hour_24', xml: '<ActivationDate type="DateTime" value="2001-02-03T24:00:00Z"/>', reason: 'BAD_VALUE' },
  { name: 'x43_now_with_nothing_to_resolve_it', xml: '<ActivationDate type="DateTime" value="$NOW"/>', reason: 'UNRESOLVED_PLACEHOLDER', withoutNow: true },
  { name: 'x44_interval_negative', xml: '<LeaseTime type="Interval" value="-1"/>', reason: 'BAD_VALUE' },
  { name: 'x45_depth_at_limit_parses', xml: nest(KMIP_MAX_DEPTH), reason: null },
  { name: 'x46_depth_limit_plus_one', xml: nest(KMIP_MAX_DEPTH + 1), reason: 'TOO_DEEP' },
  { name: 'x47_text_over_limit', xml: `<Name type="TextString" value="${'a'.repeat(KMIP_MAX_TEXT_CHARS)}"/>`, reason: 'TEXT_TOO_LARGE' },
  { name: 'x48_leap_day_2000_parses', xml: '<ActivationDate type="DateTime" value="2000-02-29T00:00:00Z"/>', reason: null },
  { name: 'x49_declaration_of_100000_spaces', xml: `<?xml${' '.repeat(100_000)}`, reason: 'XML_SYNTAX' },
  { name: 'x50_declaration_then_element_parses', xml: '<?xml version="1.0" encoding="UTF-8"?><RequestMessage/>', reason: null },
  { name: 'x51_declaration_not_first', xml: ' <?xml version="1.0"?><RequestMessage/>', reason: 'XML_SYNTAX' },
];

describe('hostile KMIP XML', () => {
  it('has unique, ordered row names', () => {
    ROWS.forEach((row, i) => expect(row.name.startsWith(`x${String(i + 1).padStart(2, '0')}_`)).toBe(true));
  });

  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    expect(reasonOf(() => parseKmipXml(row.xml, row.withoutNow ? {} : { now: 0n }))).toBe(row.reason);
  });
});
