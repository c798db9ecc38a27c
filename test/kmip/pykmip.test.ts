/**
 * Interoperability with a real KMIP client: Debian's PyKMIP (python3-pykmip
 * 0.10, /usr/bin/python3) against a real appliance (SoftHSM2 token, SQLite
 * keychain, mutual TLS), through test/kmip/pykmip/driver.py. At PyKMIP's
 * default KMIP version (1.2) and at every other version it offers (1.0, 1.1,
 * 1.3, 1.4, 2.0): version discovery and Query; a key's life (Create, Get,
 * Get Attributes, Get Attribute List, Locate, Activate, ReKey, Revoke, and
 * Destroy, which waits for two officers); Register, refused for a clear-text
 * AES key and served for Secret Data; Encrypt, Decrypt and MAC, checked
 * against the material Get returns. Also: PyKMIP's own TLS wrapping reaches
 * the appliance unweakened, and a client without grants is refused.
 *
 * PyKMIP missing is a failure, not a skip: scripts/setup.sh installs it.
 */
import { formatKmipXml } from '../../protocol/kmip/kmip-xml';
import { PERMISSIONS } from '../../protocol/op-schemas';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { DecodedResponse } from '../../protocol/response';
import { answerOf, describeFailure, KmipVersionChoice, PyKmipClientFiles, requirePyKmip, runScenario, ScenarioOptions, ScenarioRun, step, succeeded } from './pykmip/pykmip-driver';

jest.setTimeout(180_000);

/** PyKMIP 0.10 offers 1.0–1.4 and 2.0; 'default' is its own choice, 1.2. */
const VERSIONS: readonly KmipVersionChoice[] = ['default', '1.0', '1.1', '1.3', '1.4', '2.0'];

describe('PyKMIP against the appliance', () => {
  let t: TestAppliance;
  let app: PyKmipClientFiles;
  const scenario = (name: string, options: ScenarioOptions = {}): Promise<ScenarioRun> => runScenario(t.server.kmipPort!, app, name, options);

  beforeAll(async () => {
    await requirePyKmip();
    t = await startTestAppliance({ destruction_wait: 'P0D', clear_key_import: 'dual-control' });
    app = new PyKmipClientFiles(t.issue('pykmip-app', 'app'));
    const officer = await t.connect(t.officer);
    // Every permission, Get's material among them: a grant of material needs two more officers.
    const granted = await t.approve(await officer.request('PolicyGrant', { client: 'pykmip-app', pattern: 'pykmip/*', permissions: [...PERMISSIONS] }));
    expect(granted.error).toBeNull();
  });

  afterAll(async () => {
    app?.remove();
    await t?.stop();
  });

  test('PyKMIP speaks TLS 1.2 or later with a forward-secret AEAD suite, checking the server is localhost', async () => {
    const run = await scenario('discover');
    expect(run.connected).toBe(true);
    expect(run.tls!.version).toMatch(/^TLSv1\.[23]$/);
    expect(run.tls!.cipher).toMatch(/^(TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+|ECDHE-(RSA|ECDSA)-(AES\d+-GCM|CHACHA20-POLY1305)(-SHA\d+)?)$/);
    // The certificate names localhost, not another name: the client refuses it.
    const elsewhere = await scenario('discover', { serverName: 'kms.example.org' });
    expect(elsewhere).toMatchObject({ connected: false, error: { type: 'SSLCertVerificationError' } });
    expect(elsewhere.error!.message).toMatch(/hostname mismatch|doesn't match|not valid for/i);
  });

  test("PyKMIP's own TLS wrapping (ssl.wrap_socket, its defaults) reaches the appliance as it is", async () => {
    const run = await scenario('discover', { tls: 'stock' });
    expect(run.connected).toBe(true);
    expect(run.tls!.version).toMatch(/^TLSv1\.[23]$/);
    expect(succeeded(run, 'discover_versions').versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
  });

  test('a PyKMIP client with a certificate from the appliance CA but no grant is refused Create with Permission Denied', async () => {
    const stranger = new PyKmipClientFiles(t.issue('pykmip-stranger', 'app'));
    try {
      const run = await runScenario(t.server.kmipPort!, stranger, 'create', { args: { name: 'pykmip/not-mine' } });
      expect(step(run, 'create')).toMatchObject({ ok: false, error: { status: 'OPERATION_FAILED', reason: 'PERMISSION_DENIED' } });
      expect(step(run, 'create').error!.message).toMatch(/^PERMISSION_DENIED: /);
    } finally {
      stranger.remove();
    }
  });

  describe.each(VERSIONS)('at KMIP %s', (version) => {
    const label = version.replace('.', '_');
    const expectedVersion = version === 'default' ? '1.2' : version;
    let keys: ScenarioRun;
    let registered: ScenarioRun;
    let crypto: ScenarioRun;

    beforeAll(async () => {
      // Each story runs on one connection; the tests below read its steps.
      keys = await scenario('keys', { version, args: { name: `pykmip/v${label}-key` } });
      registered = await scenario('register', { version, args: { name: `pykmip/v${label}` } });
      crypto = await scenario('crypto', { version, args: { name: `pykmip/v${label}` } });
    });

    test('Discover Versions and Query answer in the version PyKMIP speaks', async () => {
      const run = await scenario('discover', { version });
      expect(run.version).toBe(expectedVersion);
      expect(succeeded(run, 'discover_versions').versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
      const query = succeeded(run, 'query');
      // Every operation the stories use, in PyKMIP's names: PyKMIP read the whole list.
      const used = ['DISCOVER_VERSIONS', 'QUERY', 'CREATE', 'REGISTER', 'GET', 'GET_ATTRIBUTES', 'GET_ATTRIBUTE_LIST', 'LOCATE', 'ACTIVATE', 'REKEY', 'REVOKE', 'DESTROY', 'POLL', 'ENCRYPT', 'DECRYPT', 'MAC'];
      expect(query.operations).toEqual(expect.arrayContaining(used));
      expect(query.objectTypes).toEqual(expect.arrayContaining(['SYMMETRIC_KEY', 'SECRET_DATA']));
    });

    test('Create makes an AES-256 key, Pre-Active, and answers its Unique Identifier', () => {
      expect(keys.version).toBe(expectedVersion);
      expect(succeeded(keys, 'create').uid).toEqual(expect.any(String));
    });

    test('Get Attributes answers the attributes asked for, under the Unique Identifier', () => {
      const got = succeeded(keys, 'get_attributes');
      expect(got.uid).toBe(succeeded(keys, 'create').uid);
      expect(got.attributes).toEqual({
        Name: [`pykmip/v${label}-key`],
        'Object Type': ['SYMMETRIC_KEY'],
        'Cryptographic Algorithm': ['AES'],
        'Cryptographic Length': [256],
        State: ['PRE_ACTIVE'],
      });
    });

    test('Get Attribute List names at least the attributes Get Attributes answered', () => {
      expect(succeeded(keys, 'get_attribute_list').names).toEqual(expect.arrayContaining(['Name', 'Object Type', 'Cryptographic Algorithm', 'Cryptographic Length', 'State']));
    });

    test('Locate by Name finds the key', () => {
      expect(succeeded(keys, 'locate').uids).toEqual([succeeded(keys, 'create').uid]);
    });

    test('Activate makes the key Active', () => {
      succeeded(keys, 'activate');
      expect(succeeded(keys, 'state_after_activate').state).toBe('ACTIVE');
    });

    test('Get returns the Symmetric Key: AES, 256 bits, 32 bytes', () => {
      expect(succeeded(keys, 'get')).toMatchObject({ objectType: 'SYMMETRIC_KEY', algorithm: 'AES', length: 256, bytes: 32 });
    });

    if (expectedVersion === '2.0') {
      test('ReKey: PyKMIP sends an empty Template-Attribute, a 1.x structure KMIP 2.0 does not have, refused as Invalid Field naming it', () => {
        expect(step(keys, 'rekey')).toMatchObject({ ok: false, error: { status: 'OPERATION_FAILED', reason: 'INVALID_FIELD', message: 'RequestPayload/TemplateAttribute is not supported here' } });
      });
    } else {
      test('ReKey answers a new Unique Identifier, Active; the instance it replaced is Deactivated', () => {
        const rekeyed = succeeded(keys, 'rekey');
        expect(rekeyed.uid).toEqual(expect.any(String));
        expect(rekeyed.uid).not.toBe(succeeded(keys, 'create').uid);
        expect(succeeded(keys, 'states_after_rekey')).toMatchObject({ replacement: 'ACTIVE', replaced: 'DEACTIVATED' });
      });
    }

    test('Revoke with a Revocation Message Deactivates the key (the message goes into the audit event)', () => {
      succeeded(keys, 'create_retired');
      succeeded(keys, 'revoke');
      expect(succeeded(keys, 'state_after_revoke').state).toBe('DEACTIVATED');
    });

    test('Destroy answers Operation Pending with the approval request; once two officers approve, Poll answers Success and the key is Destroyed', async () => {
      // PyKMIP's destroy() raises on Operation Pending (it reads a Result Reason, which a pending answer has none of): the driver reads what PyKMIP decoded.
      const asked = step(keys, 'destroy');
      if (asked.ok) throw new Error('Destroy ran without approval');
      if (asked.result?.status !== 'OPERATION_PENDING') throw new Error(`Destroy did not answer Operation Pending: ${describeFailure(asked)}`);
      const requestId = asked.result.correlation!;
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const officer = await t.connect(t.officer);
      const shown = (await officer.request('ApprovalGet', { id: requestId })).result as { request: { digest: string; operation: string; requester: string } };
      expect(shown.request).toMatchObject({ operation: 'Destroy', requester: 'pykmip-app' });
      const approved = await t.approve({ error: { code: 'APPROVAL_REQUIRED', message: '', details: { requestId, digest: shown.request.digest } } } as unknown as DecodedResponse);
      expect(approved.error).toBeNull();

      const uid = succeeded(keys, 'create_retired').uid as string;
      const after = await scenario('destroyed', { version, args: { uid, correlation: requestId } });
      // PyKMIP 0.10 has no Poll response payload (it raises NotImplementedError reading one): the answer is read with the appliance's codec.
      const polled = step(after, 'poll');
      expect(polled).toMatchObject({ ok: false, error: { type: 'NotImplementedError' } });
      const answer = answerOf(polled);
      expect(answer).toMatchObject({ operation: 'Poll', resultStatus: 'Success' });
      expect(formatKmipXml(answer.responsePayload!)).toContain(`<UniqueIdentifier type="TextString" value="${uid}"/>`);
      expect(succeeded(after, 'state').state).toBe('DESTROYED');
      expect(step(after, 'get')).toMatchObject({ ok: false, error: { status: 'OPERATION_FAILED' } });
    });

    test('Register of a clear-text AES key answers Operation Pending: a key import that other officers must approve', async () => {
      // As with Destroy, PyKMIP's register() raises on Operation Pending: the driver reads what PyKMIP decoded.
      const held = step(registered, 'register_key');
      if (held.ok) throw new Error('the import ran without approval');
      expect(held.result).toMatchObject({ status: 'OPERATION_PENDING', correlation: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      // Denied, so that the client's open requests stay under the cap across versions.
      const officer = await t.connect(t.approvers[0]);
      expect((await officer.request('ApprovalDeny', { id: held.result!.correlation!, reason: 'test' })).result).toMatchObject({ request: { operation: 'Register', class: 'key-import', state: 'denied' } });
    });

    test('Register of Secret Data without a usage (PyKMIP sends a Cryptographic Usage Mask of 0) is refused as Invalid Field', () => {
      expect(step(registered, 'register_secret_without_usage')).toMatchObject({ ok: false, error: { status: 'OPERATION_FAILED', reason: 'INVALID_FIELD', message: expect.stringMatching(/^Cryptographic ?Usage ?Mask is empty: a key with no usage could never be used$/) } });
    });

    test('Register of Secret Data (usage Export) answers a Unique Identifier, and once activated Get returns the same bytes', () => {
      expect(succeeded(registered, 'register_secret').uid).toEqual(expect.any(String));
      expect(succeeded(registered, 'get_secret')).toMatchObject({ objectType: 'SECRET_DATA', dataType: 'PASSWORD', bytes: 24, matches: true });
    });

    test('Encrypt and Decrypt with AES-CBC-PKCS5 through the client API: the plaintext comes back, and the key Get returns opens it too', () => {
      expect(succeeded(crypto, 'encrypt_cbc')).toMatchObject({ bytes: 48, ivBytes: 16 });
      expect(succeeded(crypto, 'decrypt_cbc').matches).toBe(true);
      expect(succeeded(crypto, 'decrypt_cbc_locally').matches).toBe(true);
    });

    if (['1.4', '2.0'].includes(expectedVersion)) {
      test('Encrypt with AES-GCM answers ciphertext, IV and tag; Decrypt (KMIPProxy, to send the tag) returns the plaintext, and so does the key Get returns', () => {
        expect(succeeded(crypto, 'encrypt')).toMatchObject({ ivBytes: 12, tagBytes: 16 });
        expect(succeeded(crypto, 'decrypt').matches).toBe(true);
        expect(succeeded(crypto, 'decrypt_locally').matches).toBe(true);
      });
    } else {
      test('Encrypt with AES-GCM is refused as Feature Not Supported: the tag it needs came with KMIP 1.4', () => {
        expect(step(crypto, 'encrypt')).toMatchObject({
          ok: false,
          error: { status: 'OPERATION_FAILED', reason: 'FEATURE_NOT_SUPPORTED', message: expect.stringMatching(/^AES-GCM needs the Authenticated Encryption Tag, which KMIP 1\.4 added/) },
        });
      });
    }

    test("PyKMIP's create() cannot make an HMAC key (it always adds Encrypt and Decrypt usage): refused as Invalid Field, naming the usage", () => {
      expect(step(crypto, 'create_hmac_with_client')).toMatchObject({ ok: false, error: { status: 'OPERATION_FAILED', reason: 'INVALID_FIELD' } });
      expect(step(crypto, 'create_hmac_with_client').error!.message).toMatch(/^INVALID_ARGUMENT: HMAC keys cannot be used for encrypt, decrypt/);
    });

    test('MAC (HMAC-SHA256, the key made by KMIPProxy with its own template) answers the code the key Get returns computes', () => {
      expect(succeeded(crypto, 'mac')).toMatchObject({ uid: succeeded(crypto, 'create_hmac').uid, bytes: 32, matchesLocal: true });
    });
  });
});
