/**
 * Lesser attack of the trust review (issue 12): a grant for an unborn client
 * is claimed by one officer. Two officers approved a grant of `get` on `hr/*`
 * to `ghost-app`, a client name nobody held yet; one officer then issued
 * `ghost-app` alone, with a key pair of their own, and fetched hr/payroll's
 * material as that app: the grant's dual control was spent on a name, and
 * the certificate that claimed it had no second pair of eyes.
 *
 * The rule (domain/policy/material-grants.ts): a material grant (get, decrypt,
 * decrypt-data-key) to a client that does not exist is GRANT_SUBJECT_UNKNOWN,
 * before any approval request is stored; and issuing an app that an existing
 * grant (to its name, or to one of its groups) gives material is
 * dual-controlled (grant-material). Runs over real mutual TLS, on a SoftHSM2
 * token and a SQLite keychain.
 */
import { generateClientKeyPair } from '../../client/credentials';
import { required } from '../support/approval-required';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

describe('attack: a grant for an unborn client is claimed by one officer issuing it', () => {
  let app: TestAppliance;

  beforeAll(async () => {
    app = await startTestAppliance();
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    officer.destroy();
  });

  afterAll(async () => app.stop());

  async function openRequests(): Promise<number> {
    const officer = await app.connect(app.officer);
    const listed = await officer.request('ApprovalList', { state: 'open' });
    officer.destroy();
    return (listed.result as { requests: unknown[] }).requests.length;
  }

  it('refuses a material grant to a client that does not exist, storing no approval request', async () => {
    const before = await openRequests();
    const officer = await app.connect(app.officer);
    for (const permissions of [['get'], ['decrypt'], ['decrypt-data-key'], ['encrypt', 'get']]) {
      const res = await officer.request('PolicyGrant', { client: 'ghost-app', pattern: 'hr/*', permissions });
      expect(res.error?.code).toBe('GRANT_SUBJECT_UNKNOWN');
    }
    expect(await openRequests()).toBe(before);
    const grants = await officer.request('PolicyList', { client: 'ghost-app' });
    expect((grants.result as { grants: unknown[] }).grants).toEqual([]);
    // One officer issuing the name now gets no material: there is no grant to claim.
    const pair = generateClientKeyPair();
    const issued = await officer.request('ClientIssue', { name: 'ghost-app', role: 'app', publicKeyPem: pair.publicKeyPem });
    expect(issued.error).toBeUndefined();
    const ghost = await app.connect({ certificatePem: (issued.result as { certificatePem: string }).certificatePem, privateKeyPem: pair.privateKeyPem, caPem: app.officer.caPem });
    expect((await ghost.request('Get', { name: 'hr/payroll' })).error?.code).toBe('PERMISSION_DENIED');
  });

  it('still lets one officer grant a non-material use to a client not yet issued, and a material grant to an existing one goes to approval', async () => {
    const officer = await app.connect(app.officer);
    expect((await officer.request('PolicyGrant', { client: 'future-app', pattern: 'hr/*', permissions: ['encrypt'] })).error).toBeUndefined();
    app.issue('present-app', 'app');
    required(await officer.request('PolicyGrant', { client: 'present-app', pattern: 'hr/*', permissions: ['get'] }));
  });

  it('makes issuing an app that an existing client grant gives material dual-controlled: one officer alone cannot claim it', async () => {
    // A grant to a name not yet issued, as one stored before the rule above existed.
    app.appliance.keychain.directory.putGrant({
      id: 'legacy-grant',
      subjectKind: 'client',
      subject: 'heir-app',
      pattern: 'hr/*',
      permissions: ['get'],
      createdAt: new Date().toISOString(),
      createdBy: 'test-officer',
    });
    const officer = await app.connect(app.officer);
    const pair = generateClientKeyPair();
    const res = await officer.request('ClientIssue', { name: 'heir-app', role: 'app', publicKeyPem: pair.publicKeyPem });
    expect(required(res)).toMatchObject({ required: 2 });
    expect((res.error?.details as { class: string }).class).toBe('grant-material');
    const clients = await officer.request('ClientList', {});
    expect((clients.result as { clients: Array<{ name: string }> }).clients.map((c) => c.name)).not.toContain('heir-app');
    // Approved by two other officers, the issue runs and the certificate claims the grant.
    const approved = await app.approve(res);
    expect(approved.state).toBe('executed');
    const heir = await app.connect({ certificatePem: (approved.result as { certificatePem: string }).certificatePem, privateKeyPem: pair.privateKeyPem, caPem: app.officer.caPem });
    expect((await heir.request('Get', { name: 'hr/payroll' })).error).toBeUndefined();
  });

  it('makes issuing an app into a group that holds a material grant dual-controlled, and leaves other issues immediate', async () => {
    const officer = await app.connect(app.officer);
    // A group grant before the group has members: legitimate preparation, approved by two officers.
    expect((await app.approve(await officer.request('PolicyGrant', { group: 'payroll', pattern: 'hr/*', permissions: ['decrypt'] }))).state).toBe('executed');
    const joining = await officer.request('ClientIssue', { name: 'payroll-app', role: 'app', groups: ['payroll'], publicKeyPem: generateClientKeyPair().publicKeyPem });
    expect((joining.error?.details as { class: string }).class).toBe('grant-material');
    required(joining);
    // Nothing gives these material: they run at once.
    expect((await officer.request('ClientIssue', { name: 'other-app', role: 'app', groups: ['other'], publicKeyPem: generateClientKeyPair().publicKeyPem })).error).toBeUndefined();
    expect((await officer.request('ClientIssue', { name: 'payroll-auditor', role: 'auditor', groups: ['payroll'], publicKeyPem: generateClientKeyPair().publicKeyPem })).error).toBeUndefined();
  });
});
