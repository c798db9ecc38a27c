/**
 * Split-knowledge unsealing of a real appliance: a SoftHSM2 token, a SQLite
 * keychain bound to a 2-of-3 Shamir secret, and the server over mutual TLS
 * with certificates made for the test. The server starts sealed but
 * listening (its TLS identity is HSM-sealed); only officers submit shares;
 * any two custodians unseal it, one does not, a duplicate is refused, a
 * forged share is refused at submission without costing the custodians'
 * progress, one certificate cannot submit two shares; Seal seals it again;
 * apps see only sealed or not. No share, nor
 * any part of one, reaches the audit trail, the log or an error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../common/clock';
import { loadConfig } from '../../common/config';
import { randomIds } from '../../domain/ids';
import { initializeKeychain } from '../../domain/keychain-key';
import { decodeShare, encodeShare } from '../../domain/unseal/share-codec';
import { makeShareSet } from '../../domain/unseal/split-secret';
import { storeShareCommitments } from '../../domain/unseal/share-commitments';
import { RunningServer, startApplianceServer } from '../../server/compose/appliance-server';
import { bootstrapPki } from '../../domain/pki/bootstrap-pki';
import { Logger } from '../../common/logger';
import { Appliance, openAppliance } from '../../server/compose/open-appliance';
import { generateClientKeyPair } from '../../client/credentials';
import { PkiService } from '../../domain/pki/pki-service';
import { copyTlsIdentityForSealedStart } from '../../server/tls/tls-identity';
import { ClientRole } from '../../domain/vocabulary/client-roles';
import { Credentials, RawConnection } from '../support/appliance-fixture';
import { makeSoftHsmFixture, SoftHsmFixture, useSoftHsmConf } from '../support/softhsm-fixture';

function capturingLogger(lines: string[]): Logger {
  const log = (level: string) => (message: string, meta?: unknown) => {
    lines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
    return logger as never;
  };
  const logger: Logger = { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') } as unknown as Logger;
  return logger;
}

function forged(text: string): string {
  const { custodian, bytes } = decodeShare(text);
  bytes[5] ^= 0x40;
  return encodeShare(custodian, bytes);
}

describe('split-knowledge unsealing over mutual TLS (SoftHSM2, SQLite)', () => {
  let token: SoftHsmFixture;
  let dataDir: string;
  let appliance: Appliance;
  let server: RunningServer;
  let shares: readonly string[];
  let officers: Credentials[];
  let app: Credentials;
  let material: string;
  const logLines: string[] = [];
  const connections: RawConnection[] = [];

  const connect = async (who: Credentials): Promise<RawConnection> => {
    const connection = await RawConnection.open(server.port, who, who.caPem);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    token = await makeSoftHsmFixture(`sr-unseal-${randomBytes(3).toString('hex')}`);
    dataDir = mkdtempSync(join(tmpdir(), 'strongroom-unseal-'));
    writeFileSync(join(dataDir, 'hsm-user-pin'), token.userPin, { mode: 0o600 });
    useSoftHsmConf(token.softhsmConf);
    const config = loadConfig({ dataDir, env: {}, flags: { hsm_module: token.modulePath, hsm_token_label: token.label, softhsm2_conf: token.softhsmConf, listen_port: '0' } });

    // init --shares 3 --threshold 2, as the CLI does it.
    const setup = openAppliance(config, { create: true });
    const hsm = await setup.hsm();
    const set = await makeShareSet(3, 2);
    shares = set.shares;
    await initializeKeychain(setup.store, hsm, systemClock, randomIds, { secret: set.secret, shares: 3, threshold: 2 });
    await storeShareCommitments(setup.store, hsm, systemClock, set.shares);
    await setup.keychain.unseal(hsm, set.secret);
    set.secret.fill(0);
    bootstrapPki(setup, systemClock, generateClientKeyPair());
    await copyTlsIdentityForSealedStart(setup, systemClock);
    const pki = new PkiService(setup.keychain, setup.keychain.directory, systemClock);
    const issue = (name: string, role: ClientRole): Credentials => {
      const pair = generateClientKeyPair();
      const issued = pki.issueClient({ name, role, groups: ['hr'], publicKeyPem: pair.publicKeyPem });
      return { certificatePem: issued.certificatePem, privateKeyPem: pair.privateKeyPem, caPem: issued.caPem };
    };
    officers = [issue('custodian-1', 'officer'), issue('custodian-2', 'officer'), issue('custodian-3', 'officer')];
    app = issue('payroll-app', 'app');
    setup.keychain.directory.putGrant({ id: 'g1', subjectKind: 'client', subject: 'payroll-app', pattern: 'hr/*', permissions: ['get'], createdAt: new Date().toISOString(), createdBy: 'test' });
    setup.keychain.createKey({ fullName: 'hr/payroll', algorithm: 'AES-256' });
    material = setup.keychain.getKey({ fullName: 'hr/payroll' }).material.toString('base64');
    await setup.close();

    // A restart: the server opens sealed and listens.
    appliance = openAppliance(config);
    server = await startApplianceServer(appliance, { port: 0, log: capturingLogger(logLines) });
  });

  afterAll(async () => {
    for (const connection of connections) connection.destroy();
    await server?.close();
    await appliance?.close();
    await token?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts sealed but listening: Query and UnsealStatus answer, key and admin operations are SEALED', async () => {
    const conn = await connect(app);
    // An app learns only that the appliance is sealed, in Query as in UnsealStatus; officers see the progress.
    expect((await conn.request('Query')).result).toMatchObject({ unseal: { sealed: true } });
    expect(((await conn.request('Query')).result as { unseal: object }).unseal).toEqual({ sealed: true });
    expect((await conn.request('UnsealStatus')).result).toEqual({ sealed: true });
    expect((await conn.request('Get', { name: 'hr/payroll' })).error?.code).toBe('SEALED');
    const officer = await connect(officers[0]);
    expect((await officer.request('Query')).result).toMatchObject({ unseal: { sealed: true, mode: 'hsm+shares', shares: 3, threshold: 2, submitted: 0 } });
    expect((await officer.request('ClientList')).error?.code).toBe('SEALED');
    // SEALED before the dual-control gate: no approval request is stored for officers to approve while sealed.
    expect((await officer.request('MasterKeyRotate')).error?.code).toBe('SEALED');
    expect((await officer.request('ClientRevoke', { name: 'payroll-app' })).error?.code).toBe('SEALED');
    expect(appliance.keychain.approvals.countOpen('custodian-1')).toBe(0);
  });

  it('an app may not submit or reset shares (PERMISSION_DENIED)', async () => {
    const conn = await connect(app);
    expect((await conn.request('UnsealSubmit', { share: shares[0] })).error?.code).toBe('PERMISSION_DENIED');
    expect((await conn.request('UnsealReset')).error?.code).toBe('PERMISSION_DENIED');
    expect((await conn.request('Seal')).error?.code).toBe('PERMISSION_DENIED');
    expect((await (await connect(officers[0])).request('UnsealStatus')).result).toMatchObject({ submitted: 0 });
  });

  it.each([[[0, 1]], [[0, 2]], [[1, 2]]])('custodians %j unseal it; one alone does not; Seal seals it again', async (pair) => {
    const [first, second] = pair as number[];
    const a = await connect(officers[first]);
    const b = await connect(officers[second]);
    expect((await a.request('UnsealSubmit', { share: shares[first] })).result).toMatchObject({ sealed: true, submitted: 1, custodians: [first + 1] });
    expect((await b.request('UnsealSubmit', { share: shares[first] })).error?.code).toBe('UNSEAL_SHARE_DUPLICATE');
    expect((await (await connect(app)).request('Get', { name: 'hr/payroll' })).error?.code).toBe('SEALED');
    expect((await b.request('UnsealSubmit', { share: shares[second] })).result).toMatchObject({ sealed: false, submitted: 0 });
    const got = await (await connect(app)).request('Get', { name: 'hr/payroll' });
    expect((got.result as { material: string }).material).toBe(material);
    expect((await a.request('Seal')).result).toMatchObject({ sealed: true });
    expect((await (await connect(app)).request('Get', { name: 'hr/payroll' })).error?.code).toBe('SEALED');
  });

  it('a forged share is refused at submission (UNSEAL_SHARE_INVALID, naming the custodian) and costs no progress; one certificate submits one share', async () => {
    const a = await connect(officers[0]);
    const b = await connect(officers[1]);
    await a.request('UnsealSubmit', { share: shares[0] });
    const refused = await b.request('UnsealSubmit', { share: forged(shares[1]) });
    expect(refused.error).toMatchObject({ code: 'UNSEAL_SHARE_INVALID', details: { custodian: 2 } });
    expect((await a.request('UnsealStatus')).result).toMatchObject({ sealed: true, submitted: 1, custodians: [1], shareCheck: 'each-share' });
    // One officer holding two shares cannot submit both.
    expect((await a.request('UnsealSubmit', { share: shares[2] })).error?.code).toBe('UNSEAL_CLIENT_ALREADY_SUBMITTED');
    // An app learns only sealed or not.
    expect((await (await connect(app)).request('UnsealStatus')).result).toEqual({ sealed: true });
    // A custodian withdraws their own share; another officer's reset clears the attempt (audited, rate limited).
    expect((await b.request('UnsealReset', { own: true })).result).toMatchObject({ submitted: 1 });
    expect((await a.request('UnsealReset', { own: true })).result).toMatchObject({ submitted: 0 });
    await a.request('UnsealSubmit', { share: shares[2] });
    expect((await b.request('UnsealReset')).result).toMatchObject({ submitted: 0 });
    expect((await a.request('UnsealSubmit', { share: 'sr1-1-TYPO-AAAA' })).error?.code).toBe('INVALID_ARGUMENT');
  });

  it('a share cannot ride inside a Batch (INVALID_REQUEST)', async () => {
    const a = await connect(officers[2]);
    const batch = await a.request('Batch', { items: [{ op: 'UnsealSubmit', args: { share: shares[2] } }] });
    expect((batch.result as { items: Array<{ error?: { code: string } }> }).items[0].error?.code).toBe('INVALID_REQUEST');
    expect((await a.request('UnsealStatus')).result).toMatchObject({ submitted: 0 });
  });

  /** Has the two other custodians approve `asked` (APPROVAL_REQUIRED) and waits, bounded, until it ran; the request as it ended. */
  const approveAndWait = async (asked: { error?: { code: string; details?: unknown } }, approvers: Credentials[]): Promise<{ state: string; result: unknown }> => {
    expect(asked.error?.code).toBe('APPROVAL_REQUIRED');
    const { requestId, digest } = asked.error?.details as { requestId: string; digest: string };
    for (const approver of approvers) {
      const vote = await (await connect(approver)).request('ApprovalApprove', { id: requestId, digest });
      expect(vote.error).toBeUndefined();
    }
    const reader = await connect(approvers[0]);
    for (let i = 0; i < 200; i++) {
      const request = ((await reader.request('ApprovalGet', { id: requestId })).result as { request: { state: string; result: unknown } }).request;
      if (request.state !== 'executing' && request.state !== 'approved') return request;
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
    throw new Error(`approval request ${requestId} did not finish`);
  };

  it('rotates the master key once unsealed, only with two other officers\' approval, keeping v1; the same shares unseal afterwards', async () => {
    // custodian-1 has used its submissions for this minute (rate limit): custodians 2 and 3 unseal.
    const a = await connect(officers[0]);
    const b = await connect(officers[1]);
    const c = await connect(officers[2]);
    await b.request('UnsealSubmit', { share: shares[0] });
    expect((await c.request('UnsealSubmit', { share: shares[1] })).result).toMatchObject({ sealed: false });
    const rotated = await approveAndWait(await a.request('MasterKeyRotate'), [officers[1], officers[2]]);
    expect(rotated).toMatchObject({ state: 'executed', result: { from: [1], to: 2, destroyed: [] } });
    // Old versions stay by default: backups from before the rotation still open.
    expect((await a.request('MasterKeyStatus')).result).toMatchObject({ tokenVersions: [1, 2], current: 2, unreferenced: [1] });
    // A contradictory request is refused before anyone is asked to approve it; destroyOld destroys, once approved.
    expect((await a.request('MasterKeyRotate', { keepOld: true, destroyOld: true })).error?.code).toBe('INVALID_ARGUMENT');
    const destroying = await approveAndWait(await a.request('MasterKeyRotate', { destroyOld: true }), [officers[1], officers[2]]);
    expect(destroying).toMatchObject({ state: 'executed', result: { from: [2], to: 3, destroyed: [1, 2] } });
    expect((await a.request('MasterKeyStatus')).result).toMatchObject({ tokenVersions: [3], current: 3, unreferenced: [] });
    await a.request('Seal');
    await b.request('UnsealSubmit', { share: shares[1] });
    expect((await c.request('UnsealSubmit', { share: shares[2] })).result).toMatchObject({ sealed: false });
    const got = await (await connect(app)).request('Get', { name: 'hr/payroll' });
    expect((got.result as { material: string }).material).toBe(material);
  });

  it('puts no share, nor a piece of one, in the audit trail or the log', async () => {
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    const events = appliance.store.audit.readAuditRecords(1, 10_000).map((r) => r.event);
    expect(events.some((e) => e.includes('"unseal-share"'))).toBe(true);
    expect(events.some((e) => e.includes('"seal"'))).toBe(true);
    const everything = [...events, ...logLines].join('\n');
    for (const share of shares) {
      const body = share.split('-')[2];
      for (let i = 0; i + 12 <= body.length; i += 12) expect(everything).not.toContain(body.slice(i, i + 12));
    }
  });
});
