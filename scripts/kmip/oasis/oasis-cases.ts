/**
 * The OASIS KMIP test cases as the conformance runner plays them: each XML
 * file of `<dir>/v1.4|v2.1/mandatory|optional/` is one case, named by its
 * file (`SKLC-M-1-21`), in the profile its name starts with (`SKLC`,
 * `CS-BC`, `MSGENC-JSON`: everything before `-M-` or `-O-`), a sequence of
 * steps, each a Request Message and the Response Message expected.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tagNumber } from '../../../protocol/kmip/dictionary';
import { parseTemplateDocument, TemplateNode } from './oasis-template';

export const OASIS_VERSIONS = ['1.4', '2.1'] as const;
export type OasisVersion = (typeof OASIS_VERSIONS)[number];
const KINDS = ['mandatory', 'optional'] as const;

export interface OasisStep {
  readonly request: TemplateNode;
  readonly response: TemplateNode;
}

export interface OasisCase {
  /** The file name without `.xml`: `SKLC-M-1-21`. */
  readonly name: string;
  readonly version: OasisVersion;
  readonly profile: string;
  readonly kind: (typeof KINDS)[number];
  readonly steps: readonly OasisStep[];
}

const REQUEST_MESSAGE = tagNumber('RequestMessage');
const RESPONSE_MESSAGE = tagNumber('ResponseMessage');
const CASE_NAME = /^(.+?)-[MO]-.+$/;

/** The profile a case belongs to, from its name: `CS-BC-M-GCM-1-21` → `CS-BC`. */
export function profileOf(name: string): string {
  const match = CASE_NAME.exec(name);
  if (!match) throw new Error(`${name} is not named PROFILE-M-… or PROFILE-O-…`);
  return match[1];
}

/** Pairs the messages of a case file: request, response, request, response, … */
export function stepsOf(name: string, messages: readonly TemplateNode[]): OasisStep[] {
  if (messages.length === 0 || messages.length % 2 !== 0) throw new Error(`${name} holds ${messages.length} messages, not request/response pairs`);
  const steps: OasisStep[] = [];
  for (let i = 0; i < messages.length; i += 2) {
    const [request, response] = [messages[i], messages[i + 1]];
    if (request.tag !== REQUEST_MESSAGE || response.tag !== RESPONSE_MESSAGE) throw new Error(`${name}: message ${i} and ${i + 1} are not a Request and a Response Message`);
    steps.push({ request, response });
  }
  return steps;
}

export function parseCase(name: string, version: OasisVersion, kind: OasisCase['kind'], text: string): OasisCase {
  return { name, version, profile: profileOf(name), kind, steps: stepsOf(name, parseTemplateDocument(text)) };
}

/** Every case under `dir`, ordered by version, then mandatory before optional, then file name. */
export function loadCases(dir: string): OasisCase[] {
  const cases: OasisCase[] = [];
  for (const version of OASIS_VERSIONS) {
    for (const kind of KINDS) {
      const folder = join(dir, `v${version}`, kind);
      for (const file of readdirSync(folder).filter((f) => f.endsWith('.xml')).sort()) {
        cases.push(parseCase(file.slice(0, -'.xml'.length), version, kind, readFileSync(join(folder, file), 'utf8')));
      }
    }
  }
  return cases;
}
