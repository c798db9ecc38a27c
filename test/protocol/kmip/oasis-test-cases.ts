/**
 * Loads the OASIS KMIP test cases (../shared/kmip-test-cases, or
 * $KMIP_TEST_CASES): every XML file of v1.4 and v2.1, mandatory and optional,
 * parsed into its messages. Placeholders are resolved the way a conformance
 * runner would before sending: `$NOW` to a fixed instant, the random-by-nature
 * Byte Strings (`$KEY_MATERIAL_0`, `$IV_COUNTER_NONCE`, …) to bytes derived
 * from their name; Text String placeholders stay text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseKmipXmlDocument } from '../../../protocol/kmip/kmip-xml';
import { PrimitiveType, PrimitiveValue } from '../../../protocol/kmip/kmip-text-values';
import { TtlvNode } from '../../../protocol/kmip/ttlv';

export const TEST_CASES_DIR = process.env.KMIP_TEST_CASES ?? resolve(__dirname, '../../../../shared/kmip-test-cases');
/** 2026-12-01T00:00:00Z: any fixed instant does. */
export const FIXED_NOW = 1_796_083_200n;

export interface TestCaseFile {
  readonly path: string;
  readonly text: string;
  readonly messages: TtlvNode[];
}

export function resolvePlaceholder(text: string, type: PrimitiveType): PrimitiveValue | undefined {
  return type === 'ByteString' ? new Uint8Array(Buffer.from(text.slice(1), 'latin1')) : undefined;
}

export function testCaseFiles(): string[] {
  const files: string[] = [];
  for (const version of ['v1.4', 'v2.1']) {
    for (const kind of ['mandatory', 'optional']) {
      const dir = join(TEST_CASES_DIR, version, kind);
      for (const name of readdirSync(dir).sort()) if (name.endsWith('.xml')) files.push(join(dir, name));
    }
  }
  return files;
}

export function loadTestCases(): TestCaseFile[] {
  return testCaseFiles().map((path) => {
    const text = readFileSync(path, 'utf8');
    return { path, text, messages: parseKmipXmlDocument(text, { now: FIXED_NOW, placeholder: resolvePlaceholder }) };
  });
}
