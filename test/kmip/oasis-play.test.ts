/**
 * Playing a case against a scripted server (no network): the identifier
 * the server returns is substituted into the next request, the case stops
 * at its first difference, a server that closes is a failure, the MSGENC
 * cases are played over HTTPS (never quietly over TTLV); and the report and the generated
 * section of docs/kmip.md say what the outcomes say. The fixture files all
 * load as request/response pairs with their profiles.
 */
import { resolve } from 'node:path';
import { TtlvNode } from '../../protocol/kmip/ttlv';
import { CaseBindings } from '../../scripts/kmip/oasis/oasis-bindings';
import { loadCases, profileOf } from '../../scripts/kmip/oasis/oasis-cases';
import { CaseOutcome, KmipExchange, playCase } from '../../scripts/kmip/oasis/oasis-play';
import { decidesClaim, EXCLUDED_CASES, exclusionOf, HTTPS_PROFILES } from '../../scripts/kmip/oasis/oasis-profiles';
import { caseConnector } from '../../scripts/kmip/oasis/oasis-runner';
import { conformanceSection, CONFORMANCE_BEGIN, CONFORMANCE_END, currentSection, formatReport, withSection } from '../../scripts/kmip/oasis/oasis-report';
import { answer, caseOf, requestXml, responseXml } from './oasis-test-xml';

const NOW = 1_800_000_000n;

/** A server that answers each request with the next of `answers`, recording what it was sent. */
function scripted(answers: Array<TtlvNode | Error>): { connect: () => Promise<KmipExchange>; sent: TtlvNode[]; closed: number } {
  const state = { sent: [] as TtlvNode[], closed: 0, connect: async (): Promise<KmipExchange> => ({
    async exchange(request) {
      state.sent.push(structuredClone(request)); // a copy: the runner zeroes what it received once the case is over
      const next = answers.shift();
      if (next === undefined || next instanceof Error) throw next ?? new Error('the server closed the KMIP connection before answering');
      return next;
    },
    close: () => { state.closed++; },
  }) };
  return state;
}

function payloadOf(request: TtlvNode): readonly TtlvNode[] {
  const item = (request.value as TtlvNode[])[1];
  return ((item.value as TtlvNode[])[1].value as TtlvNode[]);
}

const create = requestXml('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/>');
const created = responseXml('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>');
const destroy = requestXml('Destroy', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>');
const destroyed = responseXml('Destroy', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/>');
const twoSteps = caseOf('SKLC-M-9-21', create, created, destroy, destroyed);
const serverCreated = answer(responseXml('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="oasis/k@1"/>'), NOW);
const bindings = () => new CaseBindings(NOW, () => NOW + 1n);

test('the identifier the server returned is sent in the next request, and the case passes', async () => {
  const server = scripted([serverCreated, answer(responseXml('Destroy', '<UniqueIdentifier type="TextString" value="oasis/k@1"/>'), NOW)]);
  const outcome = await playCase(twoSteps, server.connect, { bindings: bindings() });
  expect(outcome).toMatchObject({ passed: true, stepsPassed: 2 });
  expect(payloadOf(server.sent[1])).toEqual([expect.objectContaining({ type: 'TextString', value: 'oasis/k@1' })]);
  expect(server.closed).toBe(1);
});

test('the case stops at its first difference and says where', async () => {
  const refused = answer(responseXml('Destroy', undefined, { result: '<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="OperationNotSupported"/>' }), NOW);
  const server = scripted([serverCreated, refused, serverCreated]);
  const outcome = await playCase(twoSteps, server.connect, { bindings: bindings() });
  expect(outcome).toMatchObject({ passed: false, stepsPassed: 1, failure: { step: 1, difference: { path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'Success', got: 'OperationFailed (OperationNotSupported)' } } });
  expect(server.sent).toHaveLength(2);
});

test('a server that closes, or a request whose placeholder nothing bound, fails the case at that step', async () => {
  const closed = await playCase(twoSteps, scripted([serverCreated]).connect, { bindings: bindings() });
  expect(closed.failure).toEqual({ step: 1, error: 'the server closed the KMIP connection before answering' });
  const unbound = await playCase(caseOf('SKLC-M-8-21', destroy, destroyed), scripted([]).connect, { bindings: bindings() });
  expect(unbound.failure).toEqual({ step: 0, error: 'the request uses $UNIQUE_IDENTIFIER_0, which no earlier answer bound' });
  const refusedConnection = await playCase(twoSteps, async () => { throw new Error('ECONNREFUSED'); });
  expect(refusedConnection.failure).toEqual({ step: 0, error: 'could not connect: ECONNREFUSED' });
});

describe('dual control', () => {
  const pending = answer(responseXml('Destroy', undefined, { result: `<ResultStatus type="Enumeration" value="OperationPending"/><AsynchronousCorrelationValue type="ByteString" value="${Buffer.from('req-1').toString('hex')}"/>` }), NOW);
  const polled = (result: string, payload?: string) => answer(responseXml('Poll', payload, { result }), NOW);
  const success = '<ResultStatus type="Enumeration" value="Success"/>';

  test('a held item is approved, polled, and its outcome compared as the original item', async () => {
    const server = scripted([serverCreated, pending, polled(success, '<UniqueIdentifier type="TextString" value="oasis/k@1"/>')]);
    const approvals: string[] = [];
    const outcome = await playCase(twoSteps, server.connect, { bindings: bindings(), approve: async (id) => { approvals.push(id); } });
    expect(outcome).toMatchObject({ passed: true, approved: 1 });
    expect(approvals).toEqual(['req-1']);
    const pollItem = (server.sent[2].value as TtlvNode[])[1];
    const expectedPoll = answer(requestXml('Poll', `<AsynchronousCorrelationValue type="ByteString" value="${Buffer.from('req-1').toString('hex')}"/>`), NOW);
    expect(pollItem).toEqual((expectedPoll.value as TtlvNode[])[1]);
  });

  test('without approvers the held item FAILS as it stands; a refused approval FAILS with its reason', async () => {
    const unapproved = await playCase(twoSteps, scripted([serverCreated, pending]).connect, { bindings: bindings() });
    expect(unapproved.failure).toMatchObject({ step: 1, difference: { path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'Success', got: 'OperationPending' } });
    const denied = polled('<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="PermissionDenied"/>');
    const outcome = await playCase(twoSteps, scripted([serverCreated, pending, denied]).connect, { bindings: bindings(), approve: async () => undefined });
    expect(outcome.failure).toMatchObject({ step: 1, difference: { path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'Success', got: 'OperationFailed (PermissionDenied)' } });
  });
});

test('a bound Byte String is sent back in a later request, and every answer\'s bytes are zeroed once the case is over', async () => {
  const encrypt = requestXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="01020304"/>');
  const encrypted = responseXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="$DATA_0"/>');
  const decrypt = requestXml('Decrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="$DATA_0"/>');
  const decrypted = responseXml('Decrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="01020304"/>');
  const cipherAnswer = answer(encrypted.replace('$DATA_0', 'a1b2c3d4e5f6'), NOW);
  const plainAnswer = answer(decrypted, NOW);
  const server = scripted([cipherAnswer, plainAnswer]);
  let sentCipher = '';
  const connect = async (): Promise<KmipExchange> => {
    const inner = await server.connect();
    return { close: inner.close, exchange: async (request) => {
      if (server.sent.length === 1) sentCipher = Buffer.from(payloadOf(request)[1].value as Uint8Array).toString('hex');
      return inner.exchange(request);
    } };
  };
  expect((await playCase(caseOf('CS-BC-M-99-21', encrypt, encrypted, decrypt, decrypted), connect, { bindings: bindings() })).passed).toBe(true);
  expect(sentCipher).toBe('a1b2c3d4e5f6');
  // A response's batch item holds Operation, Result Status, then its payload: Unique Identifier, Data.
  const dataOf = (tree: TtlvNode) => (((tree.value as TtlvNode[])[1].value as TtlvNode[])[2].value as TtlvNode[])[1].value as Uint8Array;
  for (const tree of [cipherAnswer, plainAnswer]) expect([...dataOf(tree)]).toEqual(new Array(dataOf(tree).length).fill(0));
});

test('an MSGENC case is played over HTTPS in its encoding: without an HTTPS port it fails to connect rather than fall back to TTLV', async () => {
  const query = requestXml('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>');
  const queried = responseXml('Query', '<Operation type="Enumeration" value="Query"/>');
  const noHttps = caseConnector({ port: 1, httpsPort: null, credentials: { certificatePem: '', privateKeyPem: '', caPem: '' } });
  for (const profile of ['MSGENC-HTTPS', 'MSGENC-JSON', 'MSGENC-XML']) {
    const outcome = await playCase(caseOf(`${profile}-M-1-21`, query, queried), noHttps, { bindings: bindings() });
    expect(outcome.failure?.error).toBe(`could not connect: ${profile} is played over KMIP over HTTPS, and no HTTPS port was given`);
  }
  expect(HTTPS_PROFILES).toEqual({ 'MSGENC-HTTPS': 'ttlv', 'MSGENC-JSON': 'json', 'MSGENC-XML': 'xml' });
});

test('every fixture file loads as request/response pairs, in the profile its name starts with', () => {
  const cases = loadCases(resolve(__dirname, '../fixtures/kmip-test-cases'));
  expect(cases.length).toBe(168);
  expect(cases.reduce((n, c) => n + c.steps.length, 0)).toBe(1049);
  expect(profileOf('CS-BC-M-GCM-1-21')).toBe('CS-BC');
  expect(profileOf('MSGENC-JSON-M-1-14')).toBe('MSGENC-JSON');
  expect(profileOf('SKLC-O-1-21')).toBe('SKLC');
  expect(() => profileOf('README')).toThrow(/not named/);
  expect(new Set(cases.map((c) => `${c.version} ${c.profile}`))).toContain('2.1 QS');
});

// AX (batch Undo) is not built: a profile still unclaimed, whatever else is claimed meanwhile.
describe('the report', () => {
  const cases = [caseOf('AX-M-1-21', create, created), caseOf('AX-M-2-21', create, created), caseOf('AKLC-M-1-21', create, created)];
  const outcomes: CaseOutcome[] = [
    { testCase: cases[0], passed: true, stepsPassed: 1, approved: 0 },
    { testCase: cases[1], passed: false, stepsPassed: 0, approved: 0, failure: { step: 0, difference: { path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'OperationFailed', got: 'Success' } } },
    { testCase: cases[2], passed: false, stepsPassed: 0, approved: 0, failure: { step: 0, error: 'no KMIP answer in time' } },
  ];

  test('prints N of M per version and profile, and the first difference of each failing case', () => {
    expect(formatReport(outcomes)).toBe([
      'KMIP 2.1 AKLC: 0 of 1 (mandatory 0 of 1; not claimed: key pairs are not generated: the appliance keeps public and private keys it is given (Register), but has no Create Key Pair)',
      '  FAIL AKLC-M-1-21 — step 0: no KMIP answer in time',
      'KMIP 2.1 AX: 1 of 2 (mandatory 1 of 2; not claimed: not yet: the operations it needs are being built)',
      '  pass AX-M-1-21',
      '  FAIL AX-M-2-21 — step 0: ResponseMessage/BatchItem/ResultStatus: expected OperationFailed, got Success',
      '1 of 3 cases pass',
      '',
    ].join('\n'));
  });

  test('the generated section lists each profile and case, and replaces only what lies between the markers', () => {
    const section = conformanceSection(outcomes);
    expect(section).toContain('| 2.1 | AX | 1 of 2 | 1 of 2 | no: not yet: the operations it needs are being built |');
    expect(section).toContain('| 2.1 | AX | AX-M-2-21 | mandatory | fail |');
    expect(section).toContain('| 2.1 | AKLC | AKLC-M-1-21 | mandatory | fail |');
    const document = `# Title\n\nbefore\n${CONFORMANCE_BEGIN}\nold\n${CONFORMANCE_END}\nafter\n`;
    const rewritten = withSection(document, section);
    expect(currentSection(rewritten)).toBe(section);
    expect(rewritten.startsWith('# Title\n\nbefore\n')).toBe(true);
    expect(rewritten.endsWith('\nafter\n')).toBe(true);
    expect(() => withSection('# no markers', section)).toThrow(/no <!-- conformance:begin -->/);
  });

  describe('cases excluded from a claim by design', () => {
    const skff = [caseOf('SKFF-M-1-21', create, created), caseOf('SKFF-M-4-21', create, created), { ...caseOf('SKFF-O-1-21', create, created), kind: 'optional' as const }];
    const threeDes = { step: 0, difference: { path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'Success', got: 'OperationFailed' } };
    const skffOutcomes: CaseOutcome[] = [
      { testCase: skff[0], passed: true, stepsPassed: 1, approved: 0 },
      { testCase: skff[1], passed: false, stepsPassed: 0, approved: 0, failure: threeDes },
      { testCase: skff[2], passed: false, stepsPassed: 0, approved: 0, failure: threeDes },
    ];

    test('an excluded mandatory case decides no claim and reads "excluded: <reason>"; an optional case of the same number is no exclusion', () => {
      expect(exclusionOf(skff[1])).toMatch(/^3DES: /);
      expect(decidesClaim(skff[1])).toBe(false);
      expect(exclusionOf({ name: 'SKFF-M-4-21', kind: 'optional' })).toBeUndefined();
      expect(exclusionOf({ name: 'SKFF-M-1-21', kind: 'mandatory' })).toBeUndefined();
      expect(exclusionOf({ name: 'SKFF-M-4-99', kind: 'mandatory' })).toBeUndefined();
      expect(decidesClaim({ name: 'SKLC-M-1-21', version: '2.1', profile: 'SKLC', kind: 'mandatory' })).toBe(true);
    });

    test('the report and the table show each excluded case with its reason, and the profile row counts them apart', () => {
      const report = formatReport(skffOutcomes);
      expect(report).toContain('KMIP 2.1 SKFF: 1 of 3 (mandatory 1 of 1, 1 excluded; ');
      expect(report).toContain(`  EXCLUDED (${EXCLUDED_CASES['SKFF-M-4-21']}) FAIL SKFF-M-4-21 — step 0: `);
      const section = conformanceSection(skffOutcomes);
      expect(section).toContain(`| 2.1 | SKFF | SKFF-M-4-21 | mandatory | excluded: ${EXCLUDED_CASES['SKFF-M-4-21']} |`);
      expect(section).toContain('| 2.1 | SKFF | SKFF-O-1-21 | optional | fail |');
      expect(section).toMatch(/\| 2\.1 \| SKFF \| 1 of 3 \| 1 of 1, 1 excluded \| /);
    });

    test('a claimed profile without exclusions reads yes, its mandatory count plain', () => {
      const sklc = caseOf('SKLC-M-1-21', create, created);
      const claimed = conformanceSection([{ testCase: sklc, passed: true, stepsPassed: 1, approved: 0 }]);
      expect(claimed).toContain('| 2.1 | SKLC | 1 of 1 | 1 of 1 | yes |');
    });
  });
});
