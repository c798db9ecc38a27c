/**
 * The conformance runner's comparison and substitution on small hand-made
 * cases: what must agree does (and each relaxation of oasis-rules.ts is no
 * wider than it says), what differs is reported at its path with both
 * values in words, and key bytes never appear in a report.
 */
import { CaseBindings, UnboundPlaceholderError } from '../../scripts/kmip/oasis/oasis-bindings';
import { compareResponse } from '../../scripts/kmip/oasis/oasis-compare';
import { learnFromResponse } from '../../scripts/kmip/oasis/oasis-generated';
import { isPlaceholder, TemplateNode } from '../../scripts/kmip/oasis/oasis-template';
import { PrimitiveNode } from '../../protocol/kmip/kmip-text-values';
import { TtlvNode } from '../../protocol/kmip/ttlv';
import { answer, requestXml, responseXml, template } from './oasis-test-xml';

const START = 1_800_000_000n;

/** Bindings of a case that started at START, whose clock now reads START + 5. */
function bindings(): CaseBindings {
  return new CaseBindings(START, () => START + 5n);
}

function child(node: TtlvNode, ...path: number[]): TtlvNode {
  return path.reduce((n, i) => (n.value as readonly TtlvNode[])[i], node);
}

const getRequest = (uid: string): TtlvNode => answer(requestXml('Get', `<UniqueIdentifier type="TextString" value="${uid}"/>`), START);

describe('templates', () => {
  test('placeholders stay named where the case leaves values open, with $NOW offsets', () => {
    const t = template(requestXml('Register', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_3"/><ActivationDate type="DateTime" value="$NOW-3600"/><Data type="ByteString" value="$DATA_0"/><Name type="TextString" value="x"/>'));
    const payload = (child(t as TtlvNode, 1, 1).value as TemplateNode[]);
    expect(payload.map((n) => (isPlaceholder(n) ? `${n.placeholder}${n.offsetSeconds}` : n.type))).toEqual(['$UNIQUE_IDENTIFIER_30', '$NOW-3600', '$DATA_00', 'TextString']);
  });

  test('a request is made with $NOW as the case start and bound values substituted; an unbound one is refused', () => {
    const b = bindings();
    const t = template(requestXml('Get', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/><ActivationDate type="DateTime" value="$NOW-3600"/>'));
    expect(() => b.resolve(t)).toThrow(UnboundPlaceholderError);
    b.bind('$UNIQUE_IDENTIFIER_0', { tag: 0, type: 'TextString', value: 'keys/a@1' });
    const payload = child(b.resolve(t), 1, 1);
    expect(payload.value).toEqual([
      expect.objectContaining({ type: 'TextString', value: 'keys/a@1' }),
      expect.objectContaining({ type: 'DateTime', value: START - 3600n }),
    ]);
  });
});

describe('comparing an answer', () => {
  const expected = template(responseXml('Get', '<UniqueIdentifier type="TextString" value="$UNIQUE_IDENTIFIER_0"/><ObjectType type="Enumeration" value="SymmetricKey"/>'));

  test('an identical answer agrees, binding the placeholder to what the server returned', () => {
    const b = bindings();
    const got = answer(responseXml('Get', '<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Enumeration" value="SymmetricKey"/>'), START + 1n);
    expect(compareResponse(expected, got, getRequest('k@1'), b)).toBeUndefined();
    expect(b.bound('$UNIQUE_IDENTIFIER_0')).toMatchObject({ value: 'k@1' });
  });

  test('a bound placeholder must keep its value: another identifier FAILS', () => {
    const b = bindings();
    b.bind('$UNIQUE_IDENTIFIER_0', { tag: 0, type: 'TextString', value: 'k@1' });
    const got = answer(responseXml('Get', '<UniqueIdentifier type="TextString" value="k@2"/><ObjectType type="Enumeration" value="SymmetricKey"/>'), START + 1n);
    expect(compareResponse(expected, got, getRequest('k@1'), b)).toEqual({
      path: 'ResponseMessage/BatchItem/ResponsePayload/UniqueIdentifier',
      expected: '$UNIQUE_IDENTIFIER_0, bound to "k@1"',
      got: '"k@2"',
    });
  });

  test('another enumeration value FAILS, named on both sides', () => {
    const got = answer(responseXml('Get', '<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Enumeration" value="SecretData"/>'), START);
    expect(compareResponse(expected, got, getRequest('k@1'), bindings())).toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/ObjectType', expected: 'SymmetricKey', got: 'SecretData' });
  });

  test('a missing item, an extra item, another tag and another type each FAIL', () => {
    const cases: Array<[string, string]> = [
      ['<UniqueIdentifier type="TextString" value="k@1"/>', 'ResponsePayload/ObjectType: expected ObjectType (Enumeration) SymmetricKey, got nothing'],
      ['<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Enumeration" value="SymmetricKey"/><State type="Enumeration" value="Active"/>', 'ResponsePayload/State: expected nothing, got State (Enumeration) Active'],
      ['<UniqueIdentifier type="TextString" value="k@1"/><State type="Enumeration" value="Active"/>', 'ResponsePayload/ObjectType: expected ObjectType, got State'],
      ['<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Integer" value="2"/>', 'ResponsePayload/ObjectType: expected a Enumeration, got a Integer'],
    ];
    for (const [payload, message] of cases) {
      const found = compareResponse(expected, answer(responseXml('Get', payload), START), getRequest('k@1'), bindings());
      expect(found && `${found.path.replace('ResponseMessage/BatchItem/', '')}: expected ${found.expected}, got ${found.got}`).toBe(message);
    }
  });

  test('a failure must have the expected Result Reason; its Result Message is free text and not compared', () => {
    const refusal = template(responseXml('Create', undefined, { result: '<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="GeneralFailure"/><ResultMessage type="TextString" value="NOT_SAFE"/>' }));
    const request = answer(requestXml('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/>'), START);
    const ours = (reason: string) => answer(responseXml('Create', undefined, { result: `<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="${reason}"/><ResultMessage type="TextString" value="QUANTUM_UNSAFE: no"/>` }), START);
    expect(compareResponse(refusal, ours('GeneralFailure'), request, bindings())).toBeUndefined();
    expect(compareResponse(refusal, ours('PermissionDenied'), request, bindings())).toMatchObject({ path: 'ResponseMessage/BatchItem/ResultReason', expected: 'GeneralFailure', got: 'PermissionDenied ("QUANTUM_UNSAFE: no")' });
  });

  test("the server's own correlation value is not compared; a failing batch item is reported before the header's Batch Count", () => {
    const echo = template(responseXml('Get', '<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Enumeration" value="SymmetricKey"/>', { header: '<ServerCorrelationValue type="TextString" value="A5E83842"/>' }));
    const ours = answer(responseXml('Get', '<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Enumeration" value="SymmetricKey"/>'), START);
    expect(compareResponse(echo, ours, getRequest('k@1'), bindings())).toBeUndefined();
    const two = template(responseXml('Get', '<UniqueIdentifier type="TextString" value="k@1"/><ObjectType type="Enumeration" value="SymmetricKey"/>').replace('value="1"/></ResponseHeader>', 'value="2"/></ResponseHeader>'));
    const refused = answer(responseXml('Get', undefined, { result: '<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ItemNotFound"/>' }), START);
    expect(compareResponse(two, refused, getRequest('k@1'), bindings())).toMatchObject({ path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'Success', got: 'OperationFailed (ItemNotFound)' });
    expect(compareResponse(two, ours, getRequest('k@1'), bindings())).toMatchObject({ path: 'ResponseMessage/ResponseHeader/BatchCount', expected: '2', got: '1' });
  });

  test('$NOW agrees only within the span of the case; a correlation value the case does not expect is let through', () => {
    const query = answer(requestXml('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>'), START);
    const emptyQuery = template(responseXml('Query', undefined));
    const at = (seconds: bigint) => answer(responseXml('Query', undefined, { header: '<ClientCorrelationValue type="TextString" value="c"/>' }), seconds);
    expect(compareResponse(emptyQuery, at(START + 3n), query, bindings())).toBeUndefined();
    expect(compareResponse(emptyQuery, at(START - 3600n), query, bindings())).toMatchObject({ path: 'ResponseMessage/ResponseHeader/TimeStamp', got: expect.stringMatching(/^2027-/) });
    expect(compareResponse(emptyQuery, at(START + 60n), query, bindings())?.expected).toMatch(/^\$NOW: between /);
    const expectingCorrelation = template(responseXml('Query', undefined, { header: '<ClientCorrelationValue type="TextString" value="d"/>' }));
    expect(compareResponse(expectingCorrelation, at(START), query, bindings())).toMatchObject({ path: 'ResponseMessage/ResponseHeader/ClientCorrelationValue', expected: '"d"', got: '"c"' });
  });

  test('the attributes of an object agree in any order, but a different value still FAILS', () => {
    const attributes = (a: string, b: string) => `<UniqueIdentifier type="TextString" value="k@1"/><Attributes>${a}${b}</Attributes>`;
    const state = '<State type="Enumeration" value="PreActive"/>';
    const length = '<CryptographicLength type="Integer" value="256"/>';
    const expectedAttributes = template(responseXml('GetAttributes', attributes(state, length)));
    const request = getRequest('k@1');
    expect(compareResponse(expectedAttributes, answer(responseXml('GetAttributes', attributes(length, state)), START), request, bindings())).toBeUndefined();
    expect(compareResponse(expectedAttributes, answer(responseXml('GetAttributes', attributes(length, state.replace('PreActive', 'Active'))), START), request, bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/Attributes/State', expected: 'PreActive', got: 'Active' });
  });
});

describe('sets told against their counterpart', () => {
  const attribute = (name: string, value: string) => `<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue ${value}/></Attribute>`;
  const state = attribute('State', 'type="Enumeration" value="PreActive"');
  const initial = attribute('Initial Date', 'type="DateTime" value="$NOW"');
  const digest = '<Attribute><AttributeName type="TextString" value="Digest"/><AttributeValue><HashingAlgorithm type="Enumeration" value="SHA_256"/></AttributeValue></Attribute>';
  const uid = '<UniqueIdentifier type="TextString" value="k@1"/>';

  test('a 1.x Attribute is paired by its name: one missing is named, another value is told against its own', () => {
    const expected = template(responseXml('GetAttributes', uid + state + digest + initial));
    expect(compareResponse(expected, answer(responseXml('GetAttributes', uid + initial + state), START), getRequest('k@1'), bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/Attribute[1]', expected: 'Attribute (Structure) "Digest" (a Structure of 2 items)', got: 'nothing' });
    const active = attribute('State', 'type="Enumeration" value="Active"');
    expect(compareResponse(template(responseXml('GetAttributes', uid + state + initial)), answer(responseXml('GetAttributes', uid + initial + active), START), getRequest('k@1'), bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/Attribute[0]/AttributeValue', expected: 'PreActive', got: 'Active' });
  });

  test('a 1.x Sensitive, Always Sensitive, Extractable or Never Extractable the reference answer lacks is let through; another extra attribute FAILS, and one the reference has is compared', () => {
    const flag = (name: string, value: boolean) => attribute(name, `type="Boolean" value="${value}"`);
    const flags = flag('Sensitive', false) + flag('Always Sensitive', false) + flag('Extractable', true) + flag('Never Extractable', false);
    const reference = template(responseXml('GetAttributes', uid + state + initial));
    expect(compareResponse(reference, answer(responseXml('GetAttributes', uid + flags + state + initial), START), getRequest('k@1'), bindings())).toBeUndefined();
    expect(compareResponse(reference, answer(responseXml('GetAttributes', uid + state + initial + flag('Fresh', true)), START), getRequest('k@1'), bindings()))
      .toMatchObject({ expected: 'nothing' });
    expect(compareResponse(template(responseXml('GetAttributes', uid + flag('Sensitive', false))), answer(responseXml('GetAttributes', uid + flag('Sensitive', true)), START), getRequest('k@1'), bindings()))
      .toMatchObject({ expected: 'false', got: 'true' });
  });

  test('listed attribute names agree in any order; one missing or one more FAILS, named', () => {
    const names = (...list: string[]) => uid + list.map((n) => `<AttributeName type="TextString" value="${n}"/>`).join('');
    const expected = template(responseXml('GetAttributeList', names('State', 'Digest', 'Name')));
    expect(compareResponse(expected, answer(responseXml('GetAttributeList', names('Name', 'State', 'Digest')), START), getRequest('k@1'), bindings())).toBeUndefined();
    expect(compareResponse(expected, answer(responseXml('GetAttributeList', names('Name', 'State', 'Object Type')), START), getRequest('k@1'), bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/AttributeName[1]', expected: 'AttributeName (TextString) "Digest"', got: 'nothing' });
    expect(compareResponse(expected, answer(responseXml('GetAttributeList', names('Name', 'State', 'Digest', 'Object Type')), START), getRequest('k@1'), bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/AttributeName', expected: 'nothing', got: 'AttributeName (TextString) "Object Type"' });
  });
});

describe('bytes', () => {
  const keyOf = (hex: string) => `<UniqueIdentifier type="TextString" value="k@1"/><SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/><KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue></KeyBlock></SymmetricKey>`;
  const expectedKey = template(responseXml('Get', keyOf('00112233445566778899aabbccddeeff')));
  const other = answer(responseXml('Get', keyOf('ffeeddccbbaa99887766554433221100')), START);

  test('key material of an object the case registered is compared exactly: other bytes FAIL, and the report holds no byte of either', () => {
    const found = compareResponse(expectedKey, other, getRequest('k@1'), bindings());
    expect(found).toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/KeyMaterial', expected: 'Byte String of 16 bytes', got: 'other content: Byte String of 16 bytes' });
    expect(JSON.stringify(found)).not.toMatch(/0011|ffee/i);
  });

  test('key material of an object the server generated is random by nature: its length is compared, and another length FAILS', () => {
    const b = bindings();
    learnFromResponse(answer(responseXml('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="k@1"/>'), START), b);
    expect(b.generated.has('k@1')).toBe(true);
    expect(compareResponse(expectedKey, other, getRequest('k@1'), b)).toBeUndefined();
    const shorter = answer(responseXml('Get', keyOf('ffeeddccbbaa9988')), START);
    expect(compareResponse(expectedKey, shorter, getRequest('k@1'), b)).toMatchObject({ expected: expect.stringMatching(/16 bytes \(random by nature/), got: 'Byte String of 8 bytes' });
    // Another object, not generated: exact again.
    expect(compareResponse(expectedKey, other, getRequest('k@2'), b)).toMatchObject({ got: 'other content: Byte String of 16 bytes' });
  });

  test('a request without an identifier uses the ID Placeholder: the last object returned', () => {
    const b = bindings();
    learnFromResponse(answer(responseXml('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/><UniqueIdentifier type="TextString" value="k@1"/>'), START), b);
    const bare = answer(requestXml('Get', ''), START);
    expect(compareResponse(expectedKey, other, bare, b)).toBeUndefined();
    learnFromResponse(answer(responseXml('Register', '<UniqueIdentifier type="TextString" value="r@1"/>'), START), b);
    expect(compareResponse(expectedKey, other, bare, b)).toMatchObject({ got: 'other content: Byte String of 16 bytes' });
  });

  test('an Encrypt answer with an IV is one whose IV the server picked: its cipher text and IV are compared by length; without one, exactly', () => {
    const sealed = (data: string, iv?: string) =>
      responseXml('Encrypt', `<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="${data}"/>${iv === undefined ? '' : `<IVCounterNonce type="ByteString" value="${iv}"/>`}`);
    const withIv = template(sealed('00112233', 'ff020304'));
    expect(compareResponse(withIv, answer(sealed('44556677', '0a0b0c0d'), START), getRequest('k@1'), bindings())).toBeUndefined();
    expect(compareResponse(withIv, answer(sealed('445566', '0a0b0c0d'), START), getRequest('k@1'), bindings())).toMatchObject({ expected: expect.stringMatching(/4 bytes \(random by nature/) });
    const withoutIv = template(sealed('00112233'));
    expect(compareResponse(withoutIv, answer(sealed('44556677'), START), getRequest('k@1'), bindings())).toMatchObject({ got: 'other content: Byte String of 4 bytes' });
    // Another operation's IV gives no such leave.
    const decrypted = template(responseXml('Decrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="00112233"/><IVCounterNonce type="ByteString" value="ff020304"/>'));
    const other = answer(responseXml('Decrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="44556677"/><IVCounterNonce type="ByteString" value="ff020304"/>'), START);
    expect(compareResponse(decrypted, other, getRequest('k@1'), bindings())).toMatchObject({ got: 'other content: Byte String of 4 bytes' });
  });

  test('a Byte String placeholder binds what the server picked (an IV) and holds it', () => {
    const b = bindings();
    const encrypted = template(responseXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="$DATA_0"/><IVCounterNonce type="ByteString" value="$IV_COUNTER_NONCE"/>'));
    const got = (iv: string) => answer(responseXml('Encrypt', `<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="0a0b"/><IVCounterNonce type="ByteString" value="${iv}"/>`), START);
    expect(compareResponse(encrypted, got('01020304'), getRequest('k@1'), b)).toBeUndefined();
    expect(Buffer.from(b.bound('$IV_COUNTER_NONCE')!.value as Uint8Array).toString('hex')).toBe('01020304');
    expect(compareResponse(encrypted, got('01020305'), getRequest('k@1'), b)).toEqual({
      path: 'ResponseMessage/BatchItem/ResponsePayload/IVCounterNonce',
      expected: '$IV_COUNTER_NONCE, bound to Byte String of 4 bytes',
      got: 'other content: Byte String of 4 bytes',
    });
  });
});

describe('values the server chose that the case wrote as the recording server\'s own', () => {
  test('a later request\'s $DATA_0 and $IV_COUNTER_NONCE are this server\'s cipher text and IV (1.4 CS-BC-M-13), never the recorded literals', () => {
    const b = bindings();
    const recorded = template(responseXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="00112233"/><IVCounterNonce type="ByteString" value="ff020304"/>'));
    const decrypt = template(requestXml('Decrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="$DATA_0"/><IVCounterNonce type="ByteString" value="$IV_COUNTER_NONCE"/>'));
    expect(() => b.resolve(decrypt)).toThrow(UnboundPlaceholderError);
    expect(compareResponse(recorded, answer(responseXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="44556677"/><IVCounterNonce type="ByteString" value="0a0b0c0d"/>'), START), getRequest('k@1'), b)).toBeUndefined();
    const sent = child(b.resolve(decrypt), 1, 1).value as readonly TtlvNode[];
    expect(sent.slice(1).map((node) => Buffer.from(node.value as Uint8Array).toString('hex'))).toEqual(['44556677', '0a0b0c0d']);
  });

  test('only a value compared by length is remembered: bytes compared exactly (a registered key\'s cipher text without an IV) bind nothing', () => {
    const b = bindings();
    const exact = template(responseXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="00112233"/>'));
    expect(compareResponse(exact, answer(responseXml('Encrypt', '<UniqueIdentifier type="TextString" value="k@1"/><Data type="ByteString" value="00112233"/>'), START), getRequest('k@1'), b)).toBeUndefined();
    expect(() => b.resolve(template(requestXml('Decrypt', '<Data type="ByteString" value="$DATA_0"/>')))).toThrow(UnboundPlaceholderError);
  });

  test('the nth value of a tag answers $TAG_n, the last one $TAG', () => {
    const b = bindings();
    const value = (hex: string): PrimitiveNode => ({ tag: 0, type: 'ByteString', value: Buffer.from(hex, 'hex') });
    b.rememberServerChosen('Data', value('01'));
    b.rememberServerChosen('Data', value('02'));
    const names = ['$DATA_0', '$DATA_1', '$DATA'].map((name) => template(requestXml('Decrypt', `<Data type="ByteString" value="${name}"/>`)));
    expect(names.map((t) => Buffer.from((child(b.resolve(t), 1, 1).value as readonly TtlvNode[])[0].value as Uint8Array).toString('hex'))).toEqual(['01', '02', '02']);
  });
});

describe('answers that describe the server', () => {
  const query = answer(requestXml('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/><QueryFunction type="Enumeration" value="QueryObjects"/>'), START);
  const expected = template(responseXml('Query', '<Operation type="Enumeration" value="Create"/><Operation type="Enumeration" value="Get"/><ObjectType type="Enumeration" value="SymmetricKey"/>'));

  test("Query's lists are the server's own: other operations agree, a kind of item left out FAILS", () => {
    expect(compareResponse(expected, answer(responseXml('Query', '<Operation type="Enumeration" value="Query"/><ObjectType type="Enumeration" value="SecretData"/>'), START), query, bindings())).toBeUndefined();
    expect(compareResponse(expected, answer(responseXml('Query', '<Operation type="Enumeration" value="Query"/>'), START), query, bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload', expected: 'items of the kinds ObjectType, Operation', got: 'items of the kinds Operation' });
  });

  test('Server Information is the vendor\'s to give or not; Vendor Identification is not', () => {
    const informed = template(responseXml('Query', '<Operation type="Enumeration" value="Get"/><VendorIdentification type="TextString" value="Ref"/><ServerInformation><TTLV tag="0x540000" type="TextString" value="v"/></ServerInformation>'));
    expect(compareResponse(informed, answer(responseXml('Query', '<Operation type="Enumeration" value="Query"/><VendorIdentification type="TextString" value="Strongroom"/>'), START), query, bindings())).toBeUndefined();
    expect(compareResponse(informed, answer(responseXml('Query', '<Operation type="Enumeration" value="Query"/>'), START), query, bindings()))
      .toMatchObject({ expected: 'items of the kinds Operation, VendorIdentification', got: 'items of the kinds Operation' });
  });

  test('a Query that should fail is compared exactly: a success FAILS', () => {
    const tooLarge = template(responseXml('Query', undefined, { result: '<ResultStatus type="Enumeration" value="OperationFailed"/><ResultReason type="Enumeration" value="ResponseTooLarge"/>' }));
    expect(compareResponse(tooLarge, answer(responseXml('Query', '<Operation type="Enumeration" value="Query"/>'), START), query, bindings()))
      .toMatchObject({ path: 'ResponseMessage/BatchItem/ResultStatus', expected: 'OperationFailed', got: 'Success' });
  });
});

describe('attributes that describe the server', () => {
  const rng = (inner: string) => `<RandomNumberGenerator>${inner}</RandomNumberGenerator>`;
  const x931 = '<RNGAlgorithm type="Enumeration" value="ANSIX9_31"/><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/>';
  const drbg = '<RNGAlgorithm type="Enumeration" value="DRBG"/><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/><DRBGAlgorithm type="Enumeration" value="CTR"/>';
  const attributes = (inner: string) => `<UniqueIdentifier type="TextString" value="k@1"/><Attributes>${inner}</Attributes>`;
  const attribute1 = (name: string, value: string) => `<UniqueIdentifier type="TextString" value="k@1"/><Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue>${value}</AttributeValue></Attribute>`;

  test("a Random Number Generator is the server's own: another generator agrees (2.x and 1.x), one without an RNG Algorithm FAILS", () => {
    expect(compareResponse(template(responseXml('GetAttributes', attributes(rng(x931)))), answer(responseXml('GetAttributes', attributes(rng(drbg))), START), getRequest('k@1'), bindings())).toBeUndefined();
    expect(compareResponse(template(responseXml('GetAttributes', attribute1('Random Number Generator', x931))), answer(responseXml('GetAttributes', attribute1('Random Number Generator', drbg)), START), getRequest('k@1'), bindings())).toBeUndefined();
    expect(compareResponse(template(responseXml('GetAttributes', attributes(rng(x931)))), answer(responseXml('GetAttributes', attributes(rng('<CryptographicLength type="Integer" value="256"/>'))), START), getRequest('k@1'), bindings()))
      .toEqual({ path: 'ResponseMessage/BatchItem/ResponsePayload/Attributes/RandomNumberGenerator', expected: "this server's own description, with a RNGAlgorithm", got: 'a Structure without one' });
  });

  test('the relaxation is no wider: another attribute value under another name is still compared exactly', () => {
    const digest = (algorithm: string) => `<HashingAlgorithm type="Enumeration" value="${algorithm}"/>`;
    expect(compareResponse(template(responseXml('GetAttributes', attribute1('Digest', digest('SHA_256')))), answer(responseXml('GetAttributes', attribute1('Digest', digest('SHA_512'))), START), getRequest('k@1'), bindings()))
      .toMatchObject({ expected: 'SHA_256', got: 'SHA_512' });
  });
});
