/**
 * The OASIS KMIP conformance runner: plays the OASIS test cases (v1.4 and
 * v2.1, mandatory and optional) against a running appliance's KMIP port
 * over mutual TLS (the MSGENC-HTTPS, -JSON and -XML cases: KMIP over HTTPS,
 * --https-port, in their encoding) and prints `N of M` per version and profile, with the
 * first difference of each failing case (never key bytes). Run from the
 * repository after `npx tsc -p tsconfig.json`:
 *
 *   node dist/scripts/kmip-conformance.js --port 5696 --cert client.pem --key client.key --ca ca.pem
 *       [--host 127.0.0.1] [--cases test/fixtures/kmip-test-cases] [--only SKLC] [--write-doc docs/kmip.md]
 *       [--https-port 5697] [--all-over-https ttlv|json|xml]
 *       [--native-port 5700 --approver officer1.pem:officer1.key --approver officer2.pem:officer2.key]
 *
 * The client needs a grant on `*` for what the cases do (create, get,
 * get-attributes, locate, activate, revoke, destroy, encrypt, decrypt, mac,
 * rekey, register). Each `--approver` is an officer (not the runner's
 * client) who approves, over the native port, what dual control holds
 * (Destroy); without them such a case fails at its held step.
 * `--all-over-https ENCODING` plays every case over HTTPS in that encoding.
 * `--write-doc` rewrites the generated conformance table
 * of docs/kmip.md; the conformance test (test/kmip/oasis-conformance.test.ts)
 * does the same against an appliance it starts, and is where the table is
 * normally made. Exit code 0 when every case of the claimed profiles
 * passes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { StrongroomClient } from '../client/strongroom-client';
import { approvedBy } from './kmip/oasis/oasis-approvers';
import { parseArgs } from 'node:util';
import { loadCases } from './kmip/oasis/oasis-cases';
import { decidesClaim } from './kmip/oasis/oasis-profiles';
import { conformanceSection, formatReport, withSection } from './kmip/oasis/oasis-report';
import { caseConnector, runConformance } from './kmip/oasis/oasis-runner';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5696' },
      host: { type: 'string', default: '127.0.0.1' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      cases: { type: 'string', default: 'test/fixtures/kmip-test-cases' },
      only: { type: 'string' },
      'write-doc': { type: 'string' },
      'native-port': { type: 'string', default: '5700' },
      approver: { type: 'string', multiple: true, default: [] },
      'https-port': { type: 'string', default: '5697' },
      'all-over-https': { type: 'string' },
    },
  });
  if (!values.cert || !values.key || !values.ca) {
    process.stderr.write('usage: kmip-conformance --cert FILE --key FILE --ca FILE [--port 5696] [--host H] [--cases DIR] [--only PROFILE] [--write-doc docs/kmip.md]\n');
    return 2;
  }
  const allOverHttps = values['all-over-https'];
  if (allOverHttps !== undefined && allOverHttps !== 'ttlv' && allOverHttps !== 'json' && allOverHttps !== 'xml') {
    process.stderr.write(`--all-over-https takes ttlv, json or xml, not "${allOverHttps}"\n`);
    return 2;
  }
  const credentials = { certificatePem: readFileSync(values.cert, 'utf8'), privateKeyPem: readFileSync(values.key, 'utf8'), caPem: readFileSync(values.ca, 'utf8') };
  const cases = loadCases(values.cases!).filter((c) => values.only === undefined || c.profile === values.only);
  const officers = values.approver!.map((pair) => {
    const [cert, key] = pair.split(':');
    if (!cert || !key) throw new Error(`--approver takes CERT:KEY, not "${pair}"`);
    return new StrongroomClient({ host: values.host!, port: Number(values['native-port']), ca: credentials.caPem, cert: readFileSync(cert), key: readFileSync(key), servername: 'localhost' });
  });
  let outcomes;
  try {
    const connect = caseConnector({ port: Number(values.port), httpsPort: Number(values['https-port']), credentials, host: values.host, allOverHttps });
    outcomes = await runConformance(cases, connect, officers.length > 0 ? { approve: approvedBy(officers) } : {});
  } finally {
    for (const officer of officers) await officer.close();
  }
  process.stdout.write(formatReport(outcomes));
  if (values['write-doc']) {
    if (values.only !== undefined) throw new Error('--write-doc needs every case: leave out --only');
    writeFileSync(values['write-doc'], withSection(readFileSync(values['write-doc'], 'utf8'), conformanceSection(outcomes)));
  }
  const claimedFailures = outcomes.filter((o) => !o.passed && decidesClaim(o.testCase));
  return claimedFailures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`kmip-conformance: ${error.message}\n`);
    process.exit(2);
  },
);
