/**
 * The metrics listener with metrics_tls = on, on a real appliance: HTTPS
 * with the appliance's server certificate, and only a client certificate of
 * the appliance CA naming a client scrapes; none, another CA's, or plain
 * HTTP is refused. On the same appliance (rate_limit_per_second = 1, burst
 * 2): rate-limit refusals are counted exactly, and sealing shows in the
 * sealed gauge and in the result code of what is then refused.
 */
import { X509Certificate } from 'node:crypto';
import { fingerprintOfDer } from '../../../domain/pki/certificate-info';
import { createCa } from '../../../domain/pki/ca';
import { issueClientCertificate } from '../../../domain/pki/issue';
import { generateClientKeyPair } from '../../../client/credentials';
import { systemClock } from '../../../common/clock';
import { Credentials, startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { parsePage, scrape, valueOf } from './scrape-metrics';

jest.setTimeout(60_000);

describe('the metrics listener over mutual TLS', () => {
  let t: TestAppliance;
  let scraper: Credentials;

  beforeAll(async () => {
    t = await startTestAppliance({ metrics_tls: 'on', rate_limit_per_second: '1' });
    // A scraper is a client with no grants: it can do nothing but scrape.
    scraper = t.issue('prometheus', 'app');
  });

  afterAll(async () => t?.stop());

  const tlsScrape = (client: Omit<Credentials, 'caPem'> | null) => scrape(t.server.metricsPort!, { tls: { ca: t.officer.caPem, client } });

  test('a client certificate of the appliance CA scrapes', async () => {
    const answer = await tlsScrape(scraper);
    expect(answer.status).toBe(200);
    expect(valueOf(parsePage(answer.body), 'strongroom_sealed')).toBe(0);
  });

  test('no client certificate, or one of another CA, is refused with 401 before the request is read', async () => {
    const none = await tlsScrape(null);
    expect(none.status).toBe(401);
    expect(none.body).not.toContain('strongroom_');
    const otherCa = createCa({ commonName: 'Other CA', validityDays: 30, clock: systemClock });
    const pair = generateClientKeyPair();
    const foreign = issueClientCertificate({ ca: otherCa, name: 'prometheus', role: 'app', groups: [], publicKeyPem: pair.publicKeyPem, validityDays: 30, clock: systemClock });
    const refused = await tlsScrape({ certificatePem: foreign.certificatePem, privateKeyPem: pair.privateKeyPem });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatch(/^UNAUTHENTICATED: /);
    expect(refused.body).not.toContain('strongroom_');
    // Recorded like every refused connection: a request answered after them finds their events durable.
    const other = await t.connect(t.approvers[1]);
    expect((await other.request('Query')).error).toBeUndefined();
    other.destroy();
    const failures = t.appliance.store.audit
      .readAuditRecords(1, 10_000)
      .map((r) => JSON.parse(r.event) as { type: string; identity: { fingerprint256: string } | null })
      .filter((e) => e.type === 'auth-failure');
    expect(failures.map((e) => e.identity?.fingerprint256)).toContain(fingerprintOfDer(new X509Certificate(foreign.certificatePem).raw));
  });

  test('plain HTTP gets no page', async () => {
    await expect(scrape(t.server.metricsPort!)).rejects.toThrow();
  });

  test('rate-limit refusals are counted, each once', async () => {
    const before = parsePage((await tlsScrape(scraper)).body);
    const conn = await t.connect(t.issue('busy-app', 'app'));
    // Sent together: more than the burst of 2, far faster than the 1 per second refill.
    for (let id = 1; id <= 6; id++) conn.send({ id, op: 'Query', args: {} });
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) codes.push((await conn.next()).error?.code ?? 'OK');
    const limited = codes.filter((code) => code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThan(0);
    expect(codes.filter((code) => code !== 'RATE_LIMITED' && code !== 'OK')).toEqual([]);
    const after = parsePage((await tlsScrape(scraper)).body);
    expect(valueOf(after, 'strongroom_rate_limited_total') - valueOf(before, 'strongroom_rate_limited_total')).toBe(limited);
    const served = (p: ReturnType<typeof parsePage>): number => valueOf(p, 'strongroom_requests_total', { operation: 'Query', code: 'OK', transport: 'tls' }, true);
    expect(served(after) - served(before)).toBe(6 - limited);
  });

  test('sealing shows in the sealed gauge, and what is then refused is counted with its code', async () => {
    const officer = await t.connect(t.officer);
    expect((await officer.request('Create', { name: 'm/sealed-soon' })).error).toBeUndefined();
    expect((await officer.request('Seal')).result).toMatchObject({ sealed: true });
    // Another officer (its own rate bucket: this appliance allows a burst of 2 per client).
    const other = await t.connect(t.approvers[0]);
    const refused = await other.request('Create', { name: 'm/while-sealed' });
    expect(refused.error?.code).toEqual(expect.any(String));
    const p = parsePage((await tlsScrape(scraper)).body);
    expect(valueOf(p, 'strongroom_sealed')).toBe(1);
    expect(valueOf(p, 'strongroom_requests_total', { operation: 'Create', code: refused.error!.code, transport: 'tls' })).toBe(1);
    expect(valueOf(p, 'strongroom_requests_total', { operation: 'Seal', code: 'OK', transport: 'tls' })).toBe(1);
    // Counted from the rows, sealed or not.
    expect(valueOf(p, 'strongroom_keys', { state: 'Active' })).toBe(1);
  });
});
