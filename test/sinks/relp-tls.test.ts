/**
 * `transport=relp-tls` against a real rsyslog whose imrelp listens with
 * TLS (`tls="on"`, its certificate from a test CA, `tls.authMode="certvalid"`:
 * it wants a client certificate from that CA): events arrive, acknowledged;
 * a sink that trusts another CA delivers nothing (the SIEM's certificate is
 * checked) and says why in its last error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SinkStats } from '../../sinks/siem-transport';
import { makePki } from '../client/pki-fixture';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { RelpSiem, startRelpSiem } from './rsyslog-relp-siem';
import { waitFor } from './syslog-listeners';

describe('a relp-tls sink and rsyslog imrelp with TLS', () => {
  let dir: string;
  let siem: RelpSiem;
  let app: TestAppliance;
  let conn: RawConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-relp-tls-'));
    const pki = makePki('Strongroom RELP Test CA');
    const other = makePki('Some Other CA');
    const file = (name: string, pem: string): string => {
      writeFileSync(join(dir, name), pem, { mode: 0o600 });
      return join(dir, name);
    };
    const ca = file('ca.pem', pki.ca.certificatePem);
    const otherCa = file('other-ca.pem', other.ca.certificatePem);
    const client = { cert: file('client.pem', pki.client.cert), key: file('client.key', pki.client.key) };
    siem = await startRelpSiem({ tls: { caFile: ca, certFile: file('server.pem', pki.server.cert), keyFile: file('server.key', pki.server.key) } });
    app = await startTestAppliance({
      audit_sinks: 'relp-tls, wrong-ca',
      'audit_sink.relp-tls': `transport=relp-tls host=127.0.0.1 port=${siem.relpPort} ca=${ca} cert=${client.cert} key=${client.key} retry_max_ms=200`,
      'audit_sink.wrong-ca': `transport=relp-tls host=127.0.0.1 port=${siem.relpPort} ca=${otherCa} cert=${client.cert} key=${client.key} retry_max_ms=200`,
    });
    conn = await app.connect(app.officer);
  }, 60_000);

  afterAll(async () => {
    conn?.destroy();
    await app?.stop();
    await siem?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers over TLS, and refuses a SIEM whose certificate another CA issued', async () => {
    const stats = (name: string): SinkStats => (app.server.services.auditSinkStats?.() ?? []).find((s) => s.name === name) as SinkStats;
    for (let i = 0; i < 20; i++) expect((await conn.request('Get', { name: `missing/k${i}` })).error).toBeDefined();
    const head = app.appliance.store.audit.auditHead()?.seq ?? 0;
    await waitFor(() => siem.records().some((r) => r.input === 'imrelp' && r.seq === head), `event ${head} over RELP with TLS`, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(stats('relp-tls'))} ${siem.diagnostics}`);
    });
    const seqs = new Set(siem.records().filter((r) => r.input === 'imrelp').map((r) => r.seq));
    expect(Array.from({ length: head }, (_, i) => i + 1).filter((seq) => !seqs.has(seq))).toEqual([]);
    await waitFor(() => stats('wrong-ca').retries > 0, 'the wrong-CA sink to fail', 20_000);
    expect(stats('wrong-ca')).toMatchObject({ delivered: 0, connected: false });
    expect(stats('wrong-ca').lastError).toMatch(/certificate/i);
  }, 120_000);
});
