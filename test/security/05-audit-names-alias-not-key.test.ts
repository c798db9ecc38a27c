/**
 * Attack 5 of the trust review (issue 12): the trail names the alias, not the key.
 *
 * An application with a grant on `hr/payroll` fetches it through an alias
 * (`lab/x`) and by its instance name alone. Events used to record the name
 * the caller sent (the alias, or nothing for an instance), so `audit search
 * --key hr/payroll`, the report's access table and a SIEM sink kept for the
 * `hr` namespace all missed both accesses. Now an event records the key and
 * instance the operation resolved and touched, with the reference as typed
 * beside them (`requested`), and search, report and sink routing go by the
 * resolved key. Runs over real mutual TLS against a SoftHSM2 token, SQLite
 * and a file sink.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditEvent } from '../../protocol/audit-event';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { waitFor } from '../sinks/syslog-listeners';

interface Found {
  events: Array<{ seq: number; event: AuditEvent }>;
}

describe('attack 5: audit events name the alias or nothing, not the key', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let payrollApp: RawConnection;
  let instance: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strongroom-attack5-'));
    app = await startTestAppliance({ audit_sinks: 'hr-siem', 'audit_sink.hr-siem': `transport=file path=${join(dir, 'hr.jsonl')} namespaces=hr types=operation` });
    officer = await app.connect(app.officer);
    const created = await officer.request('Create', { name: 'hr/payroll' });
    instance = (created.result as { key: { currentInstance: string } }).key.currentInstance;
    expect((await officer.request('AliasSet', { alias: 'lab/x', name: 'hr/payroll' })).error).toBeUndefined();
    const payrollCredentials = app.issue('payroll-app', 'app');
    expect((await app.approve(await officer.request('PolicyGrant', { client: 'payroll-app', pattern: 'hr/payroll', permissions: ['get'] }))).state).toBe('executed');
    payrollApp = await app.connect(payrollCredentials);
    expect((await payrollApp.request('Get', { name: 'lab/x' })).error).toBeUndefined();
    expect((await payrollApp.request('Get', { instance })).error).toBeUndefined();
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const gets = async (): Promise<AuditEvent[]> => {
    const found = (await officer.request('AuditSearch', { key: 'hr/payroll', operation: 'Get', identity: 'payroll-app' })).result as Found;
    return found.events.map((e) => e.event);
  };

  it('finds a Get through an alias and a Get by instance name when searching by the key canonical name', async () => {
    const events = await gets();
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ key: 'hr/payroll', instance, result: 'ok', requested: { name: 'lab/x', instance: null } });
    expect(events[1]).toMatchObject({ key: 'hr/payroll', instance, result: 'ok', requested: { name: null, instance } });
    // Searching by the alias finds nothing: the alias is not a key, and the trail names keys.
    const byAlias = (await officer.request('AuditSearch', { key: 'lab/x', operation: 'Get' })).result as Found;
    expect(byAlias.events).toHaveLength(0);
  });

  it('counts both accesses against hr/payroll in the report', async () => {
    const report = (await officer.request('Report', {})).result as { access: { rows: Array<{ key: string | null; identity: string; operation: string; allowed: number }> } };
    const row = report.access.rows.find((r) => r.identity === 'payroll-app' && r.operation === 'Get');
    expect(row).toMatchObject({ key: 'hr/payroll', allowed: 2 });
  });

  it('routes both accesses to the sink kept for the hr namespace', async () => {
    const file = join(dir, 'hr.jsonl');
    const forwarded = (): AuditEvent[] => {
      try {
        return readFileSync(file, 'utf8').trimEnd().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { event: AuditEvent }).event);
      } catch {
        return [];
      }
    };
    await waitFor(() => forwarded().filter((e) => e.operation === 'Get' && e.identity?.name === 'payroll-app').length >= 2, 'both Gets in the hr sink');
    expect(forwarded().filter((e) => e.operation === 'Get' && e.identity?.name === 'payroll-app').map((e) => e.requested)).toEqual([
      { name: 'lab/x', instance: null },
      { name: null, instance },
    ]);
  });
});
