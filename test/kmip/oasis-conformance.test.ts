/**
 * OASIS conformance against a real appliance (SoftHSM2 token, SQLite
 * keychain, mutual TLS on the KMIP port, and KMIP over HTTPS for the MSGENC
 * cases): the runner plays every case of the
 * vendored OASIS test cases (v1.4 and v2.1, each on an appliance of its own) as a client granted everything
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
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { StrongroomClient } from '../../client/strongroom-client';
import { PERMISSIONS } from '../../protocol/op-schemas';
import { approvedBy } from '../../scripts/kmip/oasis/oasis-approvers';
import { loadCases, OASIS_VERSIONS, OasisCase } from '../../scripts/kmip/oasis/oasis-cases';
import { CaseOutcome } from '../../scripts/kmip/oasis/oasis-play';
import { CLAIMED_PROFILES, decidesClaim, EXCLUDED_CASES, exclusionOf, isClaimed, MAX_EXCLUDED_SHARE, UNCLAIMED_REASONS } from '../../scripts/kmip/oasis/oasis-profiles';
import { conformanceSection, currentSection, failureLine, formatReport, withSection } from '../../scripts/kmip/oasis/oasis-report';
import { caseConnector, runConformance } from '../../scripts/kmip/oasis/oasis-runner';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

// A bound, not a measure: the two suites (336 cases, approvals among them) take 10–30 s on an idle machine and several times that under CI load.
jest.setTimeout(300_000);

const CASES_DIR = resolve(__dirname, '../fixtures/kmip-test-cases');
const DOC = resolve(__dirname, '../../docs/kmip.md');
const CLI = resolve(__dirname, '../../dist/scripts/kmip-conformance.js');

describe('OASIS KMIP conformance', () => {
  let t: TestAppliance;
  let cases: OasisCase[];
  let outcomes: CaseOutcome[];
  let officers: StrongroomClient[] = [];

  beforeAll(async () => {
    cases = loadCases(CASES_DIR);
    const played = new Map<OasisCase, CaseOutcome>();
    // Each version's suite on a fresh appliance, as OASIS publishes them (two suites): their cases reuse names
    // (TL-M-2-14 and TL-M-2-21 both create "AAAAAAA1A1AA12345678901234567" and leave it), and a name is never reused here.
    for (const version of OASIS_VERSIONS) {
      await stopAppliance();
      t = await startTestAppliance({ destruction_wait: 'P0D', kmip_interop: 'on', clear_key_import: 'dual-control' });
      // The cases name their keys freely ("SKLC-M-1-21"): the runner's client may do everything on every name.
      const runner = t.issue('oasis-runner', 'app');
      const officer = await t.connect(t.officer);
      try {
        expect((await t.approve(await officer.request('PolicyGrant', { client: 'oasis-runner', pattern: '*', permissions: [...PERMISSIONS] }))).state).toBe('executed');
      } finally {
        officer.destroy();
      }
      const appliance = t;
      officers = t.approvers.map((approver) => new StrongroomClient({ host: '127.0.0.1', port: appliance.port, ca: approver.caPem, cert: approver.certificatePem, key: approver.privateKeyPem, servername: 'localhost' }));
      // The MSGENC cases go to KMIP over HTTPS in their encoding; the others to the KMIP port.
      const suite = cases.filter((c) => c.version === version);
      const results = await runConformance(suite, caseConnector({ port: t.server.kmipPort!, httpsPort: t.server.kmipHttpsPort, credentials: runner }), { approve: approvedBy(officers) });
      results.forEach((outcome) => played.set(outcome.testCase, outcome));
    }
    outcomes = cases.flatMap((c) => played.get(c) ?? []);
    if (process.env.KMIP_CONFORMANCE_REPORT) writeFileSync(process.env.KMIP_CONFORMANCE_REPORT, formatReport(outcomes));
  });

  /** The last version's appliance stays up for the command-line test. */
  async function stopAppliance(): Promise<void> {
    for (const officer of officers) await officer.close();
    officers = [];
    await t?.stop();
  }

  afterAll(async () => {
    await stopAppliance();
  });

  test('a claimed profile has mandatory cases that decide it and is not one excluded by design, so a claim cannot pass by naming nothing', () => {
    for (const { version, profile } of CLAIMED_PROFILES) {
      const mandatory = cases.filter((c) => c.version === version && c.profile === profile && c.kind === 'mandatory');
      expect(mandatory.filter((c) => decidesClaim(c)).length).toBeGreaterThan(0);
      // Exclusions are few: a claim rests on the cases it plays, not on those it leaves out.
      expect(mandatory.filter((c) => exclusionOf(c) !== undefined).length).toBeLessThanOrEqual(Math.floor(mandatory.length * MAX_EXCLUDED_SHARE));
      expect(UNCLAIMED_REASONS[profile]).toBeUndefined();
    }
    // And in any profile, claimed or not yet: exclusions are few, so a claim made later cannot rest on them either.
    for (const excluded of cases.filter((c) => exclusionOf(c) !== undefined)) {
      const mandatory = cases.filter((c) => c.version === excluded.version && c.profile === excluded.profile && c.kind === 'mandatory');
      expect({ profile: `${excluded.version} ${excluded.profile}`, excluded: mandatory.filter((c) => exclusionOf(c) !== undefined).length <= Math.floor(mandatory.length * MAX_EXCLUDED_SHARE) })
        .toEqual({ profile: `${excluded.version} ${excluded.profile}`, excluded: true });
    }
  });

  test('each excluded case is a named mandatory case, with a reason, that does not pass (one that passes is no longer excluded)', () => {
    for (const [name, reason] of Object.entries(EXCLUDED_CASES)) {
      const outcome = outcomes.find((o) => o.testCase.name === name);
      expect({ name, kind: outcome?.testCase.kind }).toEqual({ name, kind: 'mandatory' });
      expect(reason.length).toBeGreaterThan(10);
      expect({ name, passed: outcome?.passed }).toEqual({ name, passed: false });
    }
  });

  test('every mandatory case of the claimed profiles passes', () => {
    const failing = outcomes.filter((o) => decidesClaim(o.testCase) && !o.passed).map((o) => `${o.testCase.name}: ${failureLine(o)}`);
    expect(failing).toEqual([]);
  });

  test('every case was played', () => {
    expect(outcomes.map((o) => o.testCase.name)).toEqual(cases.map((c) => c.name));
  });

  test('the command-line runner plays the cases of a profile and prints N of M with the first difference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oasis-cli-'));
    try {
      const write = (name: string, text: string): string => {
        writeFileSync(join(dir, name), text, { mode: 0o600 });
        return join(dir, name);
      };
      const runner = t.issue('oasis-cli', 'app');
      const [first, second] = t.approvers;
      const args = [
        CLI, '--port', String(t.server.kmipPort), '--native-port', String(t.port), '--only', 'QS', '--cases', CASES_DIR,
        '--cert', write('runner.pem', runner.certificatePem), '--key', write('runner.key', runner.privateKeyPem), '--ca', write('ca.pem', runner.caPem),
        '--approver', `${write('a1.pem', first.certificatePem)}:${write('a1.key', first.privateKeyPem)}`,
        '--approver', `${write('a2.pem', second.certificatePem)}:${write('a2.key', second.privateKeyPem)}`,
      ];
      const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 60_000 });
      const qs = outcomes.filter((o) => o.testCase.profile === 'QS');
      expect(stdout).toContain(`KMIP 2.1 QS: ${qs.filter((o) => o.passed).length} of ${qs.length} (mandatory `);
      // The line says whether the profile is claimed (QS is, since Quantum Safe is refused as QS-M-2 expects).
      expect(stdout).toMatch(isClaimed('2.1', 'QS') ? /KMIP 2\.1 QS: .*; claimed\)/ : /KMIP 2\.1 QS: .*; not claimed: /);
      for (const outcome of qs) expect(stdout).toContain(outcome.passed ? `pass ${outcome.testCase.name}` : `FAIL ${outcome.testCase.name} — step ${outcome.failure!.step}: `);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the conformance table of docs/kmip.md is the one this run produced', () => {
    const document = readFileSync(DOC, 'utf8');
    const section = conformanceSection(outcomes);
    if (process.env.KMIP_CONFORMANCE_WRITE_DOC === '1') writeFileSync(DOC, withSection(document, section));
    expect(currentSection(readFileSync(DOC, 'utf8'))).toBe(section);
  });
});
