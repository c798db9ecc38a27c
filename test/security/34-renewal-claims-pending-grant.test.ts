/**
 * Attack 34: a pending material grant claimed by one officer renewing its
 * subject (certificate renewal, docs/certificates.md).
 *
 * `pay-app` is an existing app held by its team, with no grant of material
 * yet, so renewing it is not dual-controlled. An officer asks for `get` on
 * `pay/*` for pay-app (the team needs it): approval required, and approvers
 * are told the grant goes to an existing client, i.e. to the certificate the
 * team holds. While the request waits, the same officer renews pay-app alone
 * with a key pair of their own: the team's certificate names nobody any
 * more, the officer's does. The approvers approve what they were shown, and
 * the officer fetches pay/secret's material as pay-app. The same with a
 * grant to a group: renewing a member while the group's grant waits. (Issuing
 * a new app into a group whose material grant is pending is the same claim.)
 *
 * The rule: renewing (or issuing) a client that a grant of material would
 * cover is dual-controlled when such a grant exists or is asked for
 * (pending, approved, executing), so no certificate is swapped under a grant
 * its approvers were looking at.
 */
import { generateClientKeyPair } from '../../client/credentials';
import { required } from '../support/approval-required';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

describe('attack 34: a pending material grant claimed by renewing (or issuing) its subject alone', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance();
    const officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'pay/secret', algorithm: 'AES-256' })).error).toBeUndefined();
    officer.destroy();
  });

  afterAll(async () => t?.stop());

  it('makes renewing a client that a pending grant of material names dual-controlled', async () => {
    const team = t.issue('pay-app', 'app');
    const officer = await t.connect(t.officer);
    const grant = await officer.request('PolicyGrant', { client: 'pay-app', pattern: 'pay/*', permissions: ['get'] });
    required(grant);
    const mine = generateClientKeyPair();
    const renewed = await officer.request('ClientRenew', { name: 'pay-app', publicKeyPem: mine.publicKeyPem });
    expect(renewed.error?.code).toBe('APPROVAL_REQUIRED');
    expect((renewed.error?.details as { class: string }).class).toBe('grant-material');
    // Had it gone through, the approved grant would hand the officer pay/secret; it goes to the team's certificate, as approved.
    expect((await t.approve(grant)).state).toBe('executed');
    expect((await (await t.connect(team)).request('Get', { name: 'pay/secret' })).error).toBeUndefined();
  });

  it('makes renewing a member of a group that a pending grant of material names dual-controlled, and issuing a new member too', async () => {
    t.issue('ledger-app', 'app', { groups: ['ledger'] });
    const officer = await t.connect(t.officer);
    required(await officer.request('PolicyGrant', { group: 'ledger', pattern: 'pay/*', permissions: ['get'] }));
    const mine = generateClientKeyPair();
    const renewed = await officer.request('ClientRenew', { name: 'ledger-app', publicKeyPem: mine.publicKeyPem });
    expect(renewed.error?.code).toBe('APPROVAL_REQUIRED');
    const issued = await officer.request('ClientIssue', { name: 'ledger-app-2', role: 'app', groups: ['ledger'], publicKeyPem: mine.publicKeyPem });
    expect(issued.error?.code).toBe('APPROVAL_REQUIRED');
  });
});
