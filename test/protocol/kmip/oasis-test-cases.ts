/**
 * Loads the OASIS KMIP test cases (test/fixtures/kmip-test-cases, a verbatim
 * copy of ../shared/kmip-test-cases kept in the repository so that a fresh
 * clone tests on any machine; or $KMIP_TEST_CASES): every XML file of v1.4 and v2.1, mandatory and optional,
 * parsed into its messages. Placeholders are resolved the way a conformance
 * runner would before sending: `$NOW` to a fixed instant, the random-by-nature
 * Byte Strings (`$KEY_MATERIAL_0`, `$IV_COUNTER_NONCE`, …) to bytes derived
 * from their name; Text String placeholders stay text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseKmipXmlDocument } from '../../../protocol/kmip/kmip-xml';
import { PrimitiveType, PrimitiveValue } from '../../../protocol/kmip/kmip-text-values';
import { paddedLength, TtlvNode } from '../../../protocol/kmip/ttlv';
import { encodeTtlv } from '../../../protocol/kmip/ttlv-encoder';

export const TEST_CASES_DIR = process.env.KMIP_TEST_CASES ?? resolve(__dirname, '../../fixtures/kmip-test-cases');
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

/** The tags, types and padded value sizes of a tree: what a decoder's path through it depends on. */
export function layoutOf(node: TtlvNode): string {
  if (node.type === 'Structure') return `${node.tag}(${node.value.map(layoutOf).join(',')})`;
  const size = node.type === 'TextString' ? Buffer.byteLength(node.value) : node.type === 'ByteString' ? node.value.length : node.type === 'BigInteger' ? encodeTtlv(node).length : 0;
  return `${node.tag}:${node.type}:${paddedLength(size)}`;
}

/**
 * One message of each layout. Many messages share one (the same tags and
 * types, values of the same padded sizes: another unique identifier, other
 * key bytes), and the codecs' paths depend on the layout, so the fuzz tests
 * mutate each layout once.
 */
export function distinctLayouts(files: readonly TestCaseFile[]): Array<{ name: string; message: TtlvNode }> {
  const distinct = new Map<string, { name: string; message: TtlvNode }>();
  for (const file of files) {
    file.messages.forEach((message, i) => {
      const key = layoutOf(message);
      if (!distinct.has(key)) distinct.set(key, { name: `${file.path.split('/').pop()}#${i}`, message });
    });
  }
  return [...distinct.values()];
}
