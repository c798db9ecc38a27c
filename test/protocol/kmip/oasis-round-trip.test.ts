/**
 * Every OASIS test-case file (v1.4 and v2.1, mandatory and optional) parses,
 * and each of its request and response messages round-trips XML → tree →
 * TTLV bytes → tree → XML → the same tree, and through the JSON encoding too.
 * Trees are compared through their canonical TTLV bytes: the encoding is
 * one-to-one, so equal bytes mean equal trees.
 */
import { basename } from 'node:path';
import { formatKmipJson, parseKmipJson } from '../../../protocol/kmip/kmip-json';
import { formatKmipXml, parseKmipXml } from '../../../protocol/kmip/kmip-xml';
import { decodeTtlv } from '../../../protocol/kmip/ttlv-decoder';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { loadTestCases, TestCaseFile } from './oasis-test-cases';

const REQUEST = tagNumber('RequestMessage');
const RESPONSE = tagNumber('ResponseMessage');
/** What the test-case folders hold: 68 + 7 files of v1.4, 86 + 7 of v2.1 (mandatory + optional). */
const EXPECTED_FILES = 168;
const EXPECTED_MESSAGES = 2098;

describe('OASIS KMIP test cases', () => {
  let cases: TestCaseFile[];
  beforeAll(() => {
    cases = loadTestCases();
  });

  it(`parses all ${EXPECTED_FILES} files into ${EXPECTED_MESSAGES} messages, requests and responses in pairs`, () => {
    expect(cases.length).toBe(EXPECTED_FILES);
    expect(cases.reduce((n, file) => n + file.messages.length, 0)).toBe(EXPECTED_MESSAGES);
    for (const file of cases) {
      expect([basename(file.path), file.messages.length % 2]).toEqual([basename(file.path), 0]);
      file.messages.forEach((message, i) => expect([basename(file.path), i, message.tag]).toEqual([basename(file.path), i, i % 2 === 0 ? REQUEST : RESPONSE]));
    }
  });

  it('round-trips every message through TTLV, XML and JSON', () => {
    let roundTripped = 0;
    const mismatches: string[] = [];
    for (const file of cases) {
      for (const message of file.messages) {
        const bytes = encodeTtlv(message);
        const decoded = decodeTtlv(bytes);
        const viaTtlv = encodeTtlv(decoded);
        const viaXml = encodeTtlv(parseKmipXml(formatKmipXml(decoded)));
        const viaJson = encodeTtlv(parseKmipJson(formatKmipJson(decoded)));
        if (!viaTtlv.equals(bytes)) mismatches.push(`${basename(file.path)} #${roundTripped} via TTLV`);
        if (!viaXml.equals(bytes)) mismatches.push(`${basename(file.path)} #${roundTripped} via XML`);
        if (!viaJson.equals(bytes)) mismatches.push(`${basename(file.path)} #${roundTripped} via JSON`);
        roundTripped++;
      }
    }
    expect(mismatches).toEqual([]);
    expect(roundTripped).toBe(EXPECTED_MESSAGES);
  });

  it('reads the test cases\' own spelling: masks with spaces, enumerations inside Attribute Value by their Attribute Name, Big Integers in hex', () => {
    const create = cases.find((file) => basename(file.path) === 'SKLC-M-1-14.xml')?.messages[0];
    expect(create).toBeDefined();
    const xml = formatKmipXml(create!);
    expect(xml).toContain('<AttributeValue type="Enumeration" value="AES"/>');
    expect(xml).toContain('<AttributeValue type="Integer" value="Encrypt Decrypt"/>');
    expect(xml).toContain('<ObjectType type="Enumeration" value="SymmetricKey"/>');
    const json = JSON.parse(formatKmipJson(create!));
    expect(json.tag).toBe('RequestMessage');
    expect(JSON.stringify(json)).toContain('{"tag":"AttributeValue","type":"Integer","value":"Encrypt|Decrypt"}');
  });
});
