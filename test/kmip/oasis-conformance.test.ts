/**
 * OASIS conformance against a real appliance (SoftHSM2 token, SQLite
 * keychain, mutual TLS on the KMIP port): the runner plays every case of the
 * vendored OASIS test cases (v1.4 and v2.1) as a client granted everything
 * on `*`, with the fixture's two approving officers approving what dual
 * control holds (Destroy: the runner then polls its outcome, oasis-pending.ts),
 * and every case of the claimed profiles must pass. The table in
 * docs/kmip.md must be the one this run produced, so the page cannot claim
 * more (or less) than the appliance does.
 *
 * KMIP_CONFORMANCE_WRITE_DOC=1 rewrites the table instead of holding the
 * page to it (after a change that makes cases pass or fail);
 * KMIP_CONFORMANCE_REPORT=FILE writes the runner's full report (each failing
 * case's first difference) there.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PERMISSIONS } from '../../protocol/op-schemas';
import { loadCases, OasisCase } from '../../scripts/kmip/oasis/oasis-cases';
import { CaseOutcome } from '../../scripts/kmip/oasis/oasis-play';
import { CLAIMED_PROFILES, isClaimed, UNCLAIMED_REASONS } from '../../scripts/kmip/oasis/oasis-profiles';
import { conformanceSection, currentSection, failureLine, formatReport, withSection } from '../../scripts/kmip/oasis/oasis-report';
import { runConformance, tlsExchange } from '../../scripts/kmip/oasis/oasis-runner';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

jest.setTimeout(90_000);

const CASES_DIR = resolve(__dirname, '../fixtures/kmip-test-cases');
const DOC = resolve(__dirname, '../../docs/kmip.md');

describe('OASIS KMIP conformance', () => {
  let t: TestAppliance;
  let cases: OasisCase[];
  let outcomes: CaseOutcome[];

  beforeAll(async () => {
    cases = loadCases(CASES_DIR);
    t = await startTestAppliance();
    // The cases name their keys freely ("SKLC-M-1-21"): the runner's client may do everything on every name.
    const runner = t.issue('oasis-runner', 'app');
    const officer = await t.connect(t.officer);
    try {
      expect((await t.approve(await officer.request('PolicyGrant', { client: 'oasis-runner', pattern: '*', permissions: [...PERMISSIONS] }))).state).toBe('executed');
    } finally {
      officer.destroy();
    }
    outcomes = await runConformance(cases, tlsExchange(t.server.kmipPort!, runner), { approve: approveAsOfficers });
    if (process.env.KMIP_CONFORMANCE_REPORT) writeFileSync(process.env.KMIP_CONFORMANCE_REPORT, formatReport(outcomes));
  });

  afterAll(async () => t?.stop());

  /** The two approving officers vote for request `id`, each on the digest of what it will run, until it leaves pending. */
  async function approveAsOfficers(id: string): Promise<void> {
    for (const approver of t.approvers) {
      const officer = await t.connect(approver);
      try {
        const shown = await officer.request('ApprovalGet', { id });
        if (shown.error) throw new Error(`ApprovalGet ${id}: ${shown.error.code} ${shown.error.message}`);
        const view = (shown.result as { request: { state: string; digest: string } }).request;
        if (view.state !== 'pending') return;
        const voted = await officer.request('ApprovalApprove', { id, digest: view.digest });
        if (voted.error) throw new Error(`ApprovalApprove ${id}: ${voted.error.code} ${voted.error.message}`);
      } finally {
        officer.destroy();
      }
    }
  }

  test('a claimed profile has cases and is not one excluded by design, so a claim cannot pass by naming nothing', () => {
    for (const { version, profile } of CLAIMED_PROFILES) {
      expect(cases.filter((c) => c.version === version && c.profile === profile).length).toBeGreaterThan(0);
      expect(UNCLAIMED_REASONS[profile]).toBeUndefined();
    }
  });

  test('every case of the claimed profiles passes', () => {
    const failing = outcomes.filter((o) => isClaimed(o.testCase.version, o.testCase.profile) && !o.passed).map((o) => `${o.testCase.name}: ${failureLine(o)}`);
    expect(failing).toEqual([]);
  });

  test('every case was played', () => {
    expect(outcomes.map((o) => o.testCase.name)).toEqual(cases.map((c) => c.name));
  });

  test('the conformance table of docs/kmip.md is the one this run produced', () => {
    const document = readFileSync(DOC, 'utf8');
    const section = conformanceSection(outcomes);
    if (process.env.KMIP_CONFORMANCE_WRITE_DOC === '1') writeFileSync(DOC, withSection(document, section));
    expect(currentSection(readFileSync(DOC, 'utf8'))).toBe(section);
  });
});
