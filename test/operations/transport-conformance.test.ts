/**
 * One entrance: the same table of operation cases runs through real mutual
 * TLS and through the in-process transport (the CLI's local mode), into the
 * same dispatcher of one appliance (SoftHSM2, SQLite), as the same officer.
 * Each case must give the same result or error code and the same audit
 * event. Then the local operator's own rule: it cannot take part in dual
 * control (DUAL_CONTROL_LOCAL_MODE), and that refusal is audited too.
 */
import { AuditEvent } from '../../domain/audit/audit-event';
import { ClientIdentity } from '../../domain/policy/identity';
import { Requester } from '../../protocol/requester';
import { inProcessRequester } from '../../server/local/in-process-transport';
import { localOperator } from '../../server/local/local-operator';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';

type Transport = 'wire' | 'local';

interface Answer {
  readonly code: string;
  readonly result: unknown;
  readonly event: AuditEvent;
}

interface Case {
  readonly title: string;
  /** Run first, through the same transport (its answers are not compared). */
  readonly setup?: Array<[string, (ns: string) => Record<string, unknown>]>;
  readonly op: string;
  readonly args: (ns: string) => Record<string, unknown>;
  readonly code: string;
  /** Seal the keychain around the request. */
  readonly sealed?: boolean;
}

/** The cases: allowed, refused by policy, refused by dual control, wrong state, unknown key, bad argument, sealed. */
const CASES: Case[] = [
  { title: 'allowed: Create', op: 'Create', args: (ns) => ({ name: `${ns}/alpha`, algorithm: 'AES-256', owner: 'conformance' }), code: 'ok' },
  { title: 'allowed: GetAttributes', setup: [['Create', (ns) => ({ name: `${ns}/beta` })]], op: 'GetAttributes', args: (ns) => ({ name: `${ns}/beta` }), code: 'ok' },
  { title: 'allowed: AliasSet', setup: [['Create', (ns) => ({ name: `${ns}/gamma` })]], op: 'AliasSet', args: (ns) => ({ alias: `${ns}/gamma-alias`, name: `${ns}/gamma` }), code: 'ok' },
  { title: 'refused by policy: Decrypt without a grant', setup: [['Create', (ns) => ({ name: `${ns}/delta` })]], op: 'Decrypt', args: (ns) => ({ name: `${ns}/delta`, ciphertext: Buffer.alloc(40, 1) }), code: 'PERMISSION_DENIED' },
  { title: 'refused by dual control: an officer exporting a key', setup: [['Create', (ns) => ({ name: `${ns}/epsilon` })]], op: 'Get', args: (ns) => ({ name: `${ns}/epsilon` }), code: 'APPROVAL_REQUIRED' },
  { title: 'wrong state: activating an Active instance', setup: [['Create', (ns) => ({ name: `${ns}/zeta` })]], op: 'Activate', args: (ns) => ({ name: `${ns}/zeta` }), code: 'WRONG_STATE' },
  { title: 'unknown key: GetAttributes of a missing key', op: 'GetAttributes', args: (ns) => ({ name: `${ns}/missing` }), code: 'KEY_NOT_FOUND' },
  { title: 'bad argument: an unknown algorithm', op: 'Create', args: (ns) => ({ name: `${ns}/eta`, algorithm: 'ROT13' }), code: 'INVALID_ARGUMENT' },
  { title: 'sealed: Create while sealed', op: 'Create', args: (ns) => ({ name: `${ns}/theta` }), code: 'SEALED', sealed: true },
];

/** What may differ between two runs of one case: the namespace, ids, times and digests. */
function normalize(value: unknown, ns: string): unknown {
  if (typeof value === 'string') {
    return value
      .split(`${ns}/`).join('NS/')
      .replace(new RegExp(`^${ns}$`), 'NS')
      .replace(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, '<uuid>')
      .replace(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/, '<time>')
      .replace(/^[0-9a-f]{64}$/, '<digest>')
      .replace(/^[A-Za-z0-9_-]{20,}$/, '<random>');
  }
  if (Array.isArray(value)) return value.map((item) => normalize(item, ns));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v, ns)]));
  return value;
}

describe('the same operation through mutual TLS and through the in-process transport', () => {
  let app: TestAppliance;
  let wire: Requester;
  let local: Requester;
  let officer: ClientIdentity;

  beforeAll(async () => {
    app = await startTestAppliance();
    const connection = await app.connect(app.officer);
    wire = {
      request: async <R>(op: string, args: Record<string, unknown> = {}): Promise<R> => {
        const encoded = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v]));
        const answer = await connection.request(op, encoded);
        if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code, details: answer.error.details });
        return answer.result as R;
      },
      close: async () => connection.destroy(),
    };
    const record = app.appliance.keychain.directory.getClientByName('test-officer')!;
    officer = { name: record.name, role: record.role, groups: record.groups, fingerprint256: record.fingerprint256, subject: `CN=${record.name}` };
    local = inProcessRequester({ dispatcher: app.server.dispatcher, limits: app.server.services.limits, identity: officer });
  });

  afterAll(async () => {
    await wire.close();
    await app.stop();
  });

  function lastOperationEvent(): AuditEvent {
    const audit = app.appliance.store.audit;
    const head = audit.auditHead()!;
    const events = audit.readAuditRecords(Math.max(1, head.seq - 20), 21).map((r) => JSON.parse(r.event) as AuditEvent);
    return events.filter((e) => e.type === 'operation').pop()!;
  }

  async function run(transport: Transport, test: Case): Promise<Answer> {
    const requester = transport === 'wire' ? wire : local;
    const ns = `conf-${transport}`;
    for (const [op, args] of test.setup ?? []) await requester.request(op as never, args(ns));
    if (test.sealed) app.appliance.keychain.seal();
    try {
      const result = await requester.request(test.op as never, test.args(ns));
      return { code: 'ok', result: normalize(result, ns), event: lastOperationEvent() };
    } catch (err) {
      return { code: (err as { code: string }).code, result: null, event: lastOperationEvent() };
    } finally {
      if (test.sealed) await app.appliance.unseal();
    }
  }

  it.each(CASES.map((c) => [c.title, c] as const))('%s', async (_title, test) => {
    const overTls = await run('wire', test);
    const inProcess = await run('local', test);
    expect(overTls.code).toBe(test.code);
    expect(inProcess.code).toBe(overTls.code);
    expect(inProcess.result).toEqual(overTls.result);
    // The same event but for where it came from and its ids and time.
    const comparable = (answer: Answer, ns: string) => {
      const { time: _time, eventId: _eventId, requestId: _requestId, source: _source, ...rest } = answer.event;
      return normalize(rest, ns);
    };
    expect(comparable(inProcess, 'conf-local')).toEqual(comparable(overTls, 'conf-wire'));
    expect(comparable(overTls, 'conf-wire')).toMatchObject({ type: 'operation', operation: test.op, identity: { name: 'test-officer', role: 'officer' }, result: test.code });
    expect([overTls.event.source, inProcess.event.source]).toEqual(['127.0.0.1', 'local']);
  });
});

describe('the local operator', () => {
  let app: TestAppliance;
  let operator: Requester;
  let deactivated = '';

  beforeAll(async () => {
    app = await startTestAppliance();
    operator = inProcessRequester({ dispatcher: app.server.dispatcher, limits: app.server.services.limits, identity: localOperator() });
    await operator.request('Create', { name: 'ops/local-key' });
    // A rolled-over key: its Deactivated first instance is one a Destroy may name.
    await operator.request('Create', { name: 'ops/rolled' });
    await operator.request('ReKey', { name: 'ops/rolled' });
    const rolled = await operator.request<{ instances: Array<{ name: string; state: string }> }>('GetAttributes', { name: 'ops/rolled' });
    deactivated = rolled.instances.find((i) => i.state === 'Deactivated')!.name;
  });
  afterAll(async () => app.stop());

  const refusals: Array<[string, string, Record<string, unknown>]> = [
    ['an officer certificate', 'ClientIssue', { name: 'officer-9', role: 'officer', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n' }],
    ['a key export', 'Get', { name: 'ops/local-key' }],
    ['a key destruction', 'Destroy', { name: 'ops/rolled', instance: '<deactivated>' }],
    ['a grant of material', 'PolicyGrant', { group: 'anyone', pattern: 'ops/*', permissions: ['get'] }],
    ['a master-key rotation', 'MasterKeyRotate', {}],
    ['a quorum change', 'ApprovalQuorumSet', { class: 'key-destroy', required: 1 }],
    ['a vote', 'ApprovalApprove', { id: 'no-such-request', digest: 'a'.repeat(64) }],
  ];

  it.each(refusals)('cannot ask for %s, nor vote (DUAL_CONTROL_LOCAL_MODE), and the refusal is in the trail', async (_what, op, args) => {
    const before = app.appliance.keychain.approvals.listApprovals({ limit: 1000 }).length;
    const resolved = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === '<deactivated>' ? deactivated : v]));
    await expect(operator.request(op as never, resolved)).rejects.toMatchObject({ code: 'DUAL_CONTROL_LOCAL_MODE' });
    // Nothing was stored for officers to approve.
    expect(app.appliance.keychain.approvals.listApprovals({ limit: 1000 })).toHaveLength(before);
    const head = app.appliance.store.audit.auditHead()!;
    const event = JSON.parse(app.appliance.store.audit.readAuditRecords(head.seq, 1)[0].event) as AuditEvent;
    expect(event).toMatchObject({ type: 'operation', operation: op, source: 'local', result: 'DUAL_CONTROL_LOCAL_MODE', identity: { name: localOperator().name, role: 'officer' } });
  });

  it('administers like any officer: a key show is answered and audited', async () => {
    const shown = await operator.request<{ key: { fullName: string } }>('GetAttributes', { name: 'ops/local-key' });
    expect(shown.key.fullName).toBe('ops/local-key');
    const head = app.appliance.store.audit.auditHead()!;
    expect(JSON.parse(app.appliance.store.audit.readAuditRecords(head.seq, 1)[0].event)).toMatchObject({ operation: 'GetAttributes', key: 'ops/local-key', result: 'ok' });
  });
});
