/**
 * The client library against the real server (its own suite runs against a
 * small fake): typed operations, server error codes, and the key lease while
 * the server is down.
 */
import { ManualClock } from '../../common/clock';
import { StrongroomClient } from '../../client/strongroom-client';
import { ApprovalRequiredError } from '../../client/client-error';
import type { ClientRecord, GrantRecord } from '../../client/types';
import type { StrongroomClientOptions } from '../../client/options';
import { startTestAppliance, TestAppliance, Credentials } from '../support/appliance-fixture';
import { rejectionCode } from '../support/error-code';

describe('client library against the real server', () => {
  let app: TestAppliance;
  let appCreds: Credentials;
  const clients: StrongroomClient[] = [];
  const client = (creds: Credentials, extra: Partial<ConstructorParameters<typeof StrongroomClient>[0]> = {}): StrongroomClient => {
    const made = new StrongroomClient({
      host: '127.0.0.1',
      port: app.port,
      ca: creds.caPem,
      cert: creds.certificatePem,
      key: creds.privateKeyPem,
      servername: 'localhost',
      requestTimeoutMs: 5000,
      ...extra,
    } as StrongroomClientOptions);
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    app = await startTestAppliance();
    appCreds = app.issue('lease-app', 'app');
    const officer = client(app.officer);
    await officer.create({ name: 'lib/data' });
    // A grant of material is dual-controlled: the typed error names the request, two other officers approve it.
    const asked = await officer.policyGrant({ client: 'lease-app', pattern: 'lib/*', permissions: ['get', 'encrypt', 'decrypt', 'generate-data-key', 'decrypt-data-key'] }).catch((err: unknown) => err);
    expect(asked).toBeInstanceOf(ApprovalRequiredError);
    const { requestId, digest, required } = asked as ApprovalRequiredError;
    expect(required).toBe(2);
    for (const approver of app.approvers) await client(approver).request('ApprovalApprove', { id: requestId, digest });
    expect(((await officer.request('ApprovalGet', { id: requestId })) as { request: { state: string } }).request.state).toBe('executed');
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await app.stop();
  });

  it('runs typed operations and surfaces server codes', async () => {
    const officer = client(app.officer);
    const app1 = client(appCreds);
    const first = await app1.get({ name: 'lib/data' });
    await officer.rekey({ name: 'lib/data' });
    const old = await app1.get({ name: 'lib/data', instance: first.instance.name });
    expect(old.material.equals(first.material)).toBe(true);
    // Officers use no keys by role: the granted app encrypts and makes the data key, and the officer's attempt is refused.
    expect(await rejectionCode(officer.encrypt({ name: 'lib/data', plaintext: Buffer.from('hello') }))).toBe('PERMISSION_DENIED');
    const sealed = await app1.encrypt({ name: 'lib/data', plaintext: Buffer.from('hello') });
    expect(sealed.key).toBe('lib/data');
    expect((await app1.decrypt({ name: 'lib/data', ciphertext: sealed.ciphertext })).plaintext.toString()).toBe('hello');
    const dataKey = await app1.generateDataKey({ name: 'lib/data' });
    expect((await app1.decryptDataKey({ name: 'lib/data', wrapped: dataKey.wrapped })).plaintext.equals(dataKey.plaintext)).toBe(true);
    expect(await rejectionCode(officer.decrypt({ name: 'lib/data', ciphertext: sealed.ciphertext }))).toBe('PERMISSION_DENIED');
    const exported = await officer.get({ name: 'lib/data' }).catch((err: unknown) => err);
    expect(exported).toBeInstanceOf(ApprovalRequiredError);
    expect((exported as ApprovalRequiredError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    await officer.request('ApprovalCancel', { id: (exported as ApprovalRequiredError).requestId });
    expect(await rejectionCode(officer.get({ name: 'lib/absent' }))).toBe('KEY_NOT_FOUND');
    expect(await rejectionCode(app1.create({ name: 'lib/new' }))).toBe('PERMISSION_DENIED');
  });

  it('answers client and grant records with exactly the fields the library declares', async () => {
    // Record<keyof T, true> must list every declared field and no other (checked by tsc), so the
    // runtime comparison below ties the server's records to client/types.ts in both directions.
    const clientFields: Record<keyof ClientRecord, true> = { name: true, role: true, groups: true, serialNumber: true, fingerprint256: true, notBefore: true, notAfter: true, createdAt: true, revokedAt: true };
    const grantFields: Record<keyof GrantRecord, true> = { id: true, subjectKind: true, subject: true, pattern: true, permissions: true, createdAt: true, createdBy: true };
    const officer = client(app.officer);
    const { clients } = await officer.clientList();
    const { grants } = await officer.policyList({ client: 'lease-app' });
    expect(clients.length).toBeGreaterThan(0);
    expect(grants.length).toBeGreaterThan(0);
    for (const record of clients) expect(Object.keys(record).sort()).toEqual(Object.keys(clientFields).sort());
    for (const record of grants) expect(Object.keys(record).sort()).toEqual(Object.keys(grantFields).sort());
  });

  it('explains a client\'s effective permissions with policyCheck, as the access decision sees them', async () => {
    const officer = client(app.officer);
    const check = await officer.policyCheck({ client: 'lease-app', name: 'lib/data' });
    expect(check.client.name).toBe('lease-app');
    expect(check.key.name).toBe('lib/data');
    const allowed = check.permissions.filter((entry) => entry.allowed).map((entry) => entry.permission).sort();
    expect(allowed).toEqual(['decrypt', 'decrypt-data-key', 'encrypt', 'generate-data-key', 'get']);
    const get = check.permissions.find((entry) => entry.permission === 'get');
    expect(get?.sources).toEqual([expect.objectContaining({ kind: 'grant', subjectKind: 'client', subject: 'lease-app', pattern: 'lib/*' })]);
    expect(await rejectionCode(client(appCreds).policyCheck({ client: 'lease-app', name: 'lib/data' }))).toBe('PERMISSION_DENIED');
  });

  it('pipelines many requests over a small pool', async () => {
    const app1 = client(appCreds, { poolSize: 2 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => app1.encrypt({ name: 'lib/data', plaintext: Buffer.from(`m${i}`) })));
    const opened = await Promise.all(results.map((r) => app1.decrypt({ name: 'lib/data', ciphertext: r.ciphertext })));
    expect(opened.map((r) => r.plaintext.toString())).toEqual(results.map((_, i) => `m${i}`));
    expect(app1.connectionsOpened).toBeLessThanOrEqual(2);
  });

  it('serves a leased key while the server is stopped, and refuses it after the hold time', async () => {
    const clock = new ManualClock(Date.now());
    const leasing = client(appCreds, { cache: { leaseMs: 1_000, holdMs: 60_000 }, clock, requestTimeoutMs: 1_000, connectTimeoutMs: 500 });
    const fetched = await leasing.get({ name: 'lib/data' });
    await app.server.close();
    clock.advance(5_000); // lease over, hold still on: the server is asked, cannot be reached, the held copy answers
    const held = await leasing.get({ name: 'lib/data' });
    expect(held.material.equals(fetched.material)).toBe(true);
    clock.advance(60_000); // past the hold time
    expect(['UNAVAILABLE', 'TIMEOUT']).toContain(await rejectionCode(leasing.get({ name: 'lib/data' })));
  });
});
