/**
 * The key service over real mutual TLS, on SoftHSM2 and SQLite: who may
 * connect, who may do what, and the operations end to end.
 */
import { Credentials, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { createCa } from '../../domain/pki/ca';
import { issueClientCertificate } from '../../domain/pki/issue';
import { generateClientKeyPair } from '../../client/credentials';
import { systemClock } from '../../common/clock';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('key service over mutual TLS', () => {
  let app: TestAppliance;
  let payments: Credentials;
  let stranger: Credentials;
  let auditor: Credentials;

  beforeAll(async () => {
    app = await startTestAppliance();
    payments = app.issue('payments-app', 'app', { groups: ['payments'] });
    stranger = app.issue('stranger-app', 'app');
    auditor = app.issue('auditor-1', 'auditor');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'pay/card-data', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'pay/tokens', algorithm: 'HMAC-SHA256' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'hr/payroll' })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', {
      group: 'payments',
      pattern: 'pay/*',
      permissions: ['get', 'locate', 'encrypt', 'decrypt', 'generate-data-key', 'decrypt-data-key', 'mac'],
    });
    // A grant of material is dual-controlled: the fixture's two approver officers approve it.
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
  });

  afterAll(async () => app.stop());

  describe('who may connect', () => {
    it('answers Query with the caller identity and the limits', async () => {
      const conn = await app.connect(payments);
      const res = await conn.request('Query');
      expect(res.result).toMatchObject({ server: 'strongroom', protocol: 1, identity: { name: 'payments-app', role: 'app', groups: ['payments'] } });
      expect((res.result as { operations: string[] }).operations).toEqual(expect.arrayContaining(['Get', 'Encrypt', 'Batch', 'PolicyGrant']));
    });

    it('refuses a connection without a client certificate', async () => {
      await expect(refusedOrClosed(() => app.connect(null))).resolves.toBe(true);
    });

    it('refuses a certificate from another CA', async () => {
      const otherCa = createCa({ commonName: 'Evil CA', validityDays: 30, clock: systemClock });
      const pair = generateClientKeyPair();
      const cert = issueClientCertificate({ ca: otherCa, name: 'payments-app', role: 'officer', groups: [], publicKeyPem: pair.publicKeyPem, validityDays: 30, clock: systemClock });
      await expect(refusedOrClosed(() => app.connect({ certificatePem: cert.certificatePem, privateKeyPem: pair.privateKeyPem, caPem: '' }))).resolves.toBe(true);
    });

    it('refuses an expired certificate', async () => {
      const expired = app.issue('expired-app', 'app', { issuedDaysAgo: 5, validityDays: 1 });
      await expect(refusedOrClosed(() => app.connect(expired))).resolves.toBe(true);
    });

    it('refuses a revoked certificate at the next handshake and closes its open connections', async () => {
      const doomed = app.issue('doomed-app', 'app');
      const open = await app.connect(doomed);
      expect((await open.request('Query')).result).toBeDefined();
      const officer = await app.connect(app.officer);
      expect((await app.approve(await officer.request('ClientRevoke', { name: 'doomed-app' }))).result).toMatchObject({ client: { name: 'doomed-app' } });
      await open.waitClosed();
      await expect(refusedOrClosed(() => app.connect(doomed))).resolves.toBe(true);
    });

    it('will not let an officer approve their own revocation (the last officer rule is in approvals-rights.test.ts)', async () => {
      const officer = await app.connect(app.officer);
      const asked = await officer.request('ClientRevoke', { name: 'approver-1' });
      const { requestId, digest } = asked.error?.details as { requestId: string; digest: string };
      const subject = await app.connect(app.approvers[0]);
      expect((await subject.request('ApprovalApprove', { id: requestId, digest })).error?.code).toBe('APPROVAL_OWN_RIGHTS');
      expect((await officer.request('ApprovalCancel', { id: requestId })).result).toMatchObject({ request: { state: 'cancelled' } });
      expect((await officer.request('ClientRevoke', { name: 'nobody-here' })).error?.code).toBe('CLIENT_NOT_FOUND');
    });
  });

  describe('who may do what', () => {
    it('gives an app without a grant PERMISSION_DENIED, for existing and missing keys alike', async () => {
      const conn = await app.connect(stranger);
      expect((await conn.request('Get', { name: 'pay/card-data' })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('Get', { name: 'pay/no-such-key' })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('Encrypt', { name: 'pay/card-data', plaintext: b64('x') })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('Locate', {})).result).toEqual({ keys: [], nextOffset: null });
    });

    it('lets a granted app use keys matching its pattern and nothing else', async () => {
      const conn = await app.connect(payments);
      const got = await conn.request('Get', { name: 'pay/card-data' });
      expect(Buffer.from((got.result as { material: string }).material, 'base64')).toHaveLength(32);
      expect((await conn.request('Get', { name: 'hr/payroll' })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('Create', { name: 'pay/new' })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('PolicyGrant', { client: 'payments-app', pattern: '*', permissions: ['get'] })).error?.code).toBe('PERMISSION_DENIED');
      const located = (await conn.request('Locate', {})).result as { keys: Array<{ fullName: string }> };
      expect(located.keys.map((k) => k.fullName).sort()).toEqual(['pay/card-data', 'pay/tokens']);
    });

    it('never gives an auditor key material', async () => {
      const conn = await app.connect(auditor);
      expect((await conn.request('Get', { name: 'pay/card-data' })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('Decrypt', { name: 'pay/card-data', ciphertext: b64('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('Query')).result).toMatchObject({ identity: { role: 'auditor' } });
    });

    it('lets an auditor read clients and grants but change nothing; an app reads neither', async () => {
      const conn = await app.connect(auditor);
      expect((await conn.request('ClientList')).result).toMatchObject({ clients: expect.arrayContaining([expect.objectContaining({ name: 'auditor-1' })]) });
      expect((await conn.request('PolicyList', { group: 'payments' })).result).toMatchObject({ grants: [expect.objectContaining({ subject: 'payments' })] });
      expect((await conn.request('PolicyGrant', { group: 'payments', pattern: '*', permissions: ['encrypt'] })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('ClientRevoke', { name: 'payments-app' })).error?.code).toBe('PERMISSION_DENIED');
      expect((await conn.request('ApprovalList')).result).toMatchObject({ requests: expect.any(Array) });
      const appConn = await app.connect(payments);
      expect((await appConn.request('ClientList')).error?.code).toBe('PERMISSION_DENIED');
      expect((await appConn.request('PolicyList')).error?.code).toBe('PERMISSION_DENIED');
    });
  });

  describe('operations', () => {
    it('encrypts before a rollover and decrypts after it', async () => {
      const conn = await app.connect(payments);
      const officer = await app.connect(app.officer);
      const sealed = (await conn.request('Encrypt', { name: 'pay/card-data', plaintext: b64('4111 1111 1111 1111'), aad: b64('order-7') })).result as { ciphertext: string; instance: string };
      expect((await officer.request('ReKey', { name: 'pay/card-data' })).error).toBeUndefined();
      const opened = (await conn.request('Decrypt', { name: 'pay/card-data', ciphertext: sealed.ciphertext, aad: b64('order-7') })).result as { plaintext: string; instance: string };
      expect(Buffer.from(opened.plaintext, 'base64').toString()).toBe('4111 1111 1111 1111');
      expect(opened.instance).toBe(sealed.instance);
      const again = (await conn.request('Encrypt', { name: 'pay/card-data', plaintext: b64('x') })).result as { instance: string };
      expect(again.instance).not.toBe(sealed.instance);
    });

    it('GenerateDataKey then DecryptDataKey returns the same key', async () => {
      const conn = await app.connect(payments);
      const generated = (await conn.request('GenerateDataKey', { name: 'pay/card-data', algorithm: 'AES-128' })).result as { plaintext: string; wrapped: string };
      expect(Buffer.from(generated.plaintext, 'base64')).toHaveLength(16);
      const unwrapped = (await conn.request('DecryptDataKey', { name: 'pay/card-data', wrapped: generated.wrapped })).result as { plaintext: string };
      expect(unwrapped.plaintext).toBe(generated.plaintext);
    });

    it('MACs and verifies with an HMAC key', async () => {
      const conn = await app.connect(payments);
      const made = (await conn.request('MAC', { name: 'pay/tokens', data: b64('amount=10') })).result as { mac: string };
      expect((await conn.request('MACVerify', { name: 'pay/tokens', data: b64('amount=10'), mac: made.mac })).result).toMatchObject({ valid: true });
      expect((await conn.request('MACVerify', { name: 'pay/tokens', data: b64('amount=99'), mac: made.mac })).result).toMatchObject({ valid: false });
    });

    it('runs a batch item by item, each authorised on its own', async () => {
      const conn = await app.connect(payments);
      const res = await conn.request('Batch', {
        items: [
          { op: 'Encrypt', args: { name: 'pay/card-data', plaintext: b64('a') } },
          { op: 'Get', args: { name: 'hr/payroll' } },
          { op: 'NoSuchOp', args: {} },
        ],
      });
      const items = (res.result as { items: Array<{ result?: unknown; error?: { code: string } }> }).items;
      expect(items[0].result).toBeDefined();
      expect(items[1].error?.code).toBe('PERMISSION_DENIED');
      expect(items[2].error?.code).toBe('UNKNOWN_OPERATION');
    });

    it('runs the lifecycle over the wire: revoke stops encryption, destroy is scheduled and can be cancelled', async () => {
      const officer = await app.connect(app.officer);
      const user = await app.connect(payments); // officers fetch no material: the granted app checks Get
      await officer.request('Create', { name: 'pay/life-k' });
      expect((await officer.request('Destroy', { name: 'pay/life-k' })).error?.code).toBe('WRONG_STATE'); // Active: revoke first
      expect((await officer.request('Revoke', { name: 'pay/life-k', reason: 'cessationOfOperation' })).result).toMatchObject({ instance: { state: 'Deactivated' } });
      expect((await user.request('Encrypt', { name: 'pay/life-k', plaintext: b64('x') })).error?.code).toBe('WRONG_STATE'); // officers use no keys: the granted app checks it
      const scheduled = (await app.approve(await officer.request('Destroy', { name: 'pay/life-k' }))).result as { instance: { state: string; destroyAt: string | null; hasMaterial: boolean } };
      expect(scheduled.instance).toMatchObject({ state: 'Deactivated', hasMaterial: true });
      expect(Date.parse(scheduled.instance.destroyAt as string)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
      expect((await user.request('Get', { name: 'pay/life-k' })).error?.code).toBe('WRONG_STATE'); // pending: refused
      expect((await officer.request('DestroyCancel', { name: 'pay/life-k' })).result).toMatchObject({ instance: { destroyAt: null } });
      expect((await user.request('Get', { name: 'pay/life-k' })).result).toBeDefined();
      expect((await officer.request('DestroyCancel', { name: 'pay/life-k' })).error?.code).toBe('WRONG_STATE');
      expect((await officer.request('Activate', { name: 'pay/life-k' })).error?.code).toBe('WRONG_STATE');
    });

    it('checks grants against the key behind an alias, never the alias itself', async () => {
      const officer = await app.connect(app.officer);
      expect((await officer.request('AliasSet', { alias: 'pay/hr-backdoor', name: 'hr/payroll' })).result).toMatchObject({ key: 'hr/payroll' });
      const conn = await app.connect(payments);
      const refused = await conn.request('Get', { name: 'pay/hr-backdoor' });
      expect(refused.error?.code).toBe('PERMISSION_DENIED');
      expect(refused.error?.message).not.toContain('hr/payroll'); // the refusal does not reveal the alias's target
      expect((await officer.request('AliasSet', { alias: 'pay/hr-backdoor', name: 'pay/card-data' })).result).toMatchObject({ key: 'pay/card-data' });
      const viaAlias = (await conn.request('Get', { name: 'pay/hr-backdoor' })).result as { key: { fullName: string } };
      expect(viaAlias.key.fullName).toBe('pay/card-data');
      expect((await officer.request('AliasList')).result).toMatchObject({ aliases: [{ alias: 'pay/hr-backdoor', key: 'pay/card-data' }] });
      expect((await conn.request('AliasSet', { alias: 'pay/x', name: 'hr/payroll' })).error?.code).toBe('PERMISSION_DENIED');
    });

    it('matches pipelined responses to their requests', async () => {
      const conn = await app.connect(payments);
      const ids = Array.from({ length: 50 }, (_, i) => `p-${i}`);
      for (const [i, id] of ids.entries()) {
        conn.send(i % 2 ? { id, op: 'Encrypt', args: { name: 'pay/card-data', plaintext: b64(id) } } : { id, op: 'Get', args: { name: 'pay/card-data' } });
      }
      const got = [];
      for (let i = 0; i < ids.length; i++) got.push(await conn.next());
      expect(got.map((r) => r.id)).toEqual(ids);
      expect(got.every((r) => r.result !== undefined)).toBe(true);
    });
  });
});

describe('audit trail of the key service', () => {
  let app: TestAppliance;
  beforeAll(async () => {
    app = await startTestAppliance();
  });
  afterAll(async () => app.stop());

  it('records every operation, allowed or refused, and refused connections, with no key material, in a chain that verifies', async () => {
    const appCreds = app.issue('audited-app', 'app');
    const officer = await app.connect(app.officer);
    await officer.request('Create', { name: 'aud/k' });
    expect((await app.approve(await officer.request('PolicyGrant', { client: 'audited-app', pattern: 'aud/*', permissions: ['get'] }))).state).toBe('executed');
    const conn = await app.connect(appCreds);
    const got = (await conn.request('Get', { name: 'aud/k' }, { endUser: 'alice', purpose: 'payroll', custom: { ticket: 'CHG-9' } })).result as { material: string };
    expect((await conn.request('Encrypt', { name: 'aud/k', plaintext: b64('secret plaintext') })).error?.code).toBe('PERMISSION_DENIED');
    await expect(refusedOrClosed(() => app.connect(null))).resolves.toBe(true);
    // Let the listener's fire-and-forget auth-failure event reach the trail.
    await new Promise((r) => setTimeout(r, 200));

    const { verifyStore } = await import('../../domain/audit/audit-chain');
    const audit = app.appliance.store.audit;
    expect(verifyStore(audit).ok).toBe(true);
    const events = audit.readAuditRecords(1, 10_000).map((r) => JSON.parse(r.event));
    const get = events.find((e) => e.operation === 'Get' && e.key === 'aud/k');
    expect(get).toMatchObject({ type: 'operation', result: 'ok', endUser: 'alice', purpose: 'payroll', custom: { ticket: 'CHG-9' }, identity: { name: 'audited-app', role: 'app' } });
    expect(get.source).toMatch(/127\.0\.0\.1/);
    expect(events.find((e) => e.operation === 'Encrypt')).toMatchObject({ result: 'PERMISSION_DENIED' });
    expect(events.some((e) => e.type === 'auth-failure')).toBe(true);
    const all = audit.readAuditRecords(1, 10_000).map((r) => r.event).join('\n');
    const material = Buffer.from(got.material, 'base64');
    for (const needle of [got.material, material.toString('hex'), b64('secret plaintext'), 'secret plaintext']) expect(all).not.toContain(needle);
  });
});

/** True when the server refused the handshake or closed the connection before serving a request. */
async function refusedOrClosed(open: () => Promise<{ request: (op: string) => Promise<{ error?: { code: string } }>; destroy(): void }>): Promise<boolean> {
  let conn;
  try {
    conn = await open();
  } catch {
    return true;
  }
  try {
    const res = await conn.request('Query');
    return res.error?.code === 'UNAUTHENTICATED';
  } catch {
    return true;
  } finally {
    conn.destroy();
  }
}
