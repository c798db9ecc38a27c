/**
 * SIEMs parse what the sinks send: a real rsyslog (Debian's rsyslogd, see
 * rsyslog-siem.ts) is the SIEM of a real appliance whose TCP and UDP syslog
 * sinks send CEF. Requests carry hostile key names, end users, purposes and
 * custom meta (quotes, backslashes, `]`, `=`, `|`, CR/LF, TAB and other
 * controls, non-ASCII), and the test reads what rsyslog's own parsers made
 * of each event:
 *
 * - the RFC 5424 header gives the facility, severity, APP-NAME, MSGID and
 *   the event's own time, and the structured data (mmpstrucdata) each
 *   event's seq, hash and prevHash exactly as the appliance's trail has them;
 * - the CEF record (mmnormalize, liblognorm's `cef` type) gives the header
 *   and every documented extension key (docs/audit-sinks.md) with the value
 *   the appliance meant: the original text, where only the controls CEF
 *   cannot escape read as U+FFFD (sinks/control-characters.ts).
 *
 * The one liblognorm bug met on the way (the first extension key loses its
 * first letter when no space follows the last header pipe, as CEF has it)
 * is worked around in the rsyslog config, never in the appliance.
 */
import { applianceVersion } from '../../common/version';
import { auditLiveEvents } from '../../domain/audit/audit-live';
import { AuditLiveEvent } from '../../domain/events/event-bus';
import { startTestAppliance, TestAppliance, RawConnection } from '../support/appliance-fixture';
import { ParsedRecord, RsyslogSiem, startRsyslog } from './rsyslog-siem';
import { waitFor } from './syslog-listeners';

const HOSTILE_USER = 'o\'brien "boss" ]x[ a=b c|d \\e\nsecond\rline\ttab\u0007bell\u001b[31mred\u007f ü € 😀\u2028end';
const HOSTILE_KEY = 'hr/pay|roll]=1 "q"\\ü\nx\u0000';
const HOSTILE_PURPOSE = 'audit=€|ok] \\\\ "quoted"';
const HOSTILE_CUSTOM = { 'ticket.id': 'T-1 a=b\\c]|"d"\ne' };

/** What a CEF reader sees of a value: the text, with the controls CEF has no escape for as U+FFFD (LF and CR are escaped, so they survive). */
function cefView(value: string): string {
  return value.replace(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/g, '\uFFFD');
}

/** The CEF extension keys docs/audit-sinks.md lists, with their labels. */
const CEF_KEYS = ['rt', 'externalId', 'cat', 'act', 'outcome', 'suser', 'spriv', 'duser', 'src', 'cs1', 'cs2', 'cs3', 'cs4', 'cs5', 'cs6', 'cn1', 'msg'];
const CEF_LABELS: Record<string, string> = { cs1Label: 'key', cs2Label: 'instance', cs3Label: 'chainHash', cs4Label: 'prevHash', cs5Label: 'purpose', cs6Label: 'certFingerprint', cn1Label: 'seq' };

/** The extension fields the appliance means to send for an event, per docs/audit-sinks.md (absent fields are left out). */
function meantExtensions(live: AuditLiveEvent): Record<string, string> {
  const e = live.event;
  const fields: Record<string, string | null> = {
    rt: String(Date.parse(e.time)),
    externalId: e.eventId,
    cat: e.type,
    act: e.operation ?? e.type,
    outcome: e.result,
    suser: e.identity?.name || null,
    spriv: e.identity?.role || null,
    duser: e.endUser,
    src: e.source,
    cs1: e.key,
    cs2: e.instance,
    cs3: live.hash,
    cs4: live.prevHash,
    cs5: e.purpose,
    cs6: e.identity?.fingerprint256 || null,
    cn1: String(live.seq),
  };
  const meant: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== null) meant[key] = cefView(value);
  return meant;
}

describe('a real rsyslog parses what the syslog sinks send', () => {
  let siem: RsyslogSiem;
  let app: TestAppliance;
  let officerConn: RawConnection;
  let appConn: RawConnection;
  let outsiderConn: RawConnection;
  const headSeq = (): number => app.appliance.store.audit.auditHead()?.seq ?? 0;
  const forwarded = (input: string): Map<number, ParsedRecord> =>
    new Map(
      siem
        .records()
        .filter((r) => r.input === input && r.cef !== undefined)
        .map((r) => [Number(r['rfc5424-sd']?.['strongroom@32473']?.seq), r]),
    );

  beforeAll(async () => {
    siem = await startRsyslog();
    app = await startTestAppliance({
      audit_sinks: 'rsyslog-tcp, rsyslog-udp',
      'audit_sink.rsyslog-tcp': `transport=syslog-tcp host=127.0.0.1 port=${siem.tcpPort} format=cef retry_max_ms=200`,
      'audit_sink.rsyslog-udp': `transport=syslog-udp host=127.0.0.1 port=${siem.udpPort} format=cef max_datagram=8192`,
    });
    officerConn = await app.connect(app.officer);
    expect((await officerConn.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    const appCreds = app.issue('siem-app', 'app');
    expect((await app.approve(await officerConn.request('PolicyGrant', { client: 'siem-app', pattern: 'hr/*', permissions: ['get'] }))).state).toBe('executed');
    appConn = await app.connect(appCreds);
    outsiderConn = await app.connect(app.issue('siem-outsider', 'app'));
  }, 60_000);

  afterAll(async () => {
    appConn?.destroy();
    outsiderConn?.destroy();
    officerConn?.destroy();
    await app?.stop();
    await siem?.stop();
  });

  it('gives each event the seq, hash and prevHash of the trail (structured data) and the extension fields the appliance meant (CEF), over TCP and UDP', async () => {
    const ok = await appConn.request('Get', { name: 'hr/payroll' }, { endUser: HOSTILE_USER, purpose: HOSTILE_PURPOSE, custom: HOSTILE_CUSTOM });
    expect(ok.error).toBeUndefined();
    const refused = await appConn.request('Get', { name: HOSTILE_KEY }, { endUser: HOSTILE_USER });
    expect(refused.error?.code).toBe('INVALID_ARGUMENT');
    const denied = await outsiderConn.request('Get', { name: 'hr/payroll' }, { endUser: HOSTILE_USER });
    expect(denied.error).toBeDefined();
    const head = headSeq();
    await waitFor(() => forwarded('imtcp').has(head) && forwarded('imudp').has(head), `rsyslog to parse event ${head} from both sinks`, 15_000);

    const trail = new Map(auditLiveEvents(app.appliance.store.audit.readAuditRecords(1, head)).map((live) => [live.seq, live]));
    for (const input of ['imtcp', 'imudp']) {
      const parsed = forwarded(input);
      const seqs = [...parsed.keys()].sort((a, b) => a - b);
      // Every event from the first forwarded one (the server's start) to the head, none missing.
      expect(seqs).toEqual(Array.from({ length: head - seqs[0] + 1 }, (_, i) => seqs[0] + i));
      for (const seq of seqs) {
        const live = trail.get(seq) as AuditLiveEvent;
        const record = parsed.get(seq) as ParsedRecord;
        // The header: facility 13 (log audit); severity 6 for an allowed operation, 5 refused, 4 a failed authentication.
        const severity = live.event.type === 'auth-failure' ? '4' : live.event.result === 'ok' ? '6' : '5';
        expect(record).toMatchObject({ msgid: live.event.type, appname: 'strongroom', facility: '13', severity });
        expect(Date.parse(record.timestamp)).toBe(Date.parse(live.event.time));
        expect(record['rfc5424-sd']).toEqual({ 'strongroom@32473': { seq: String(seq), hash: live.hash, prevHash: live.prevHash } });
        const cef = record.cef as NonNullable<ParsedRecord['cef']>;
        const action = live.event.operation ?? live.event.type;
        const cefSeverity = { '6': '3', '5': '6', '4': '8' }[severity];
        expect(cef).toMatchObject({ DeviceVendor: 'Strongroom', DeviceProduct: 'Strongroom', DeviceVersion: applianceVersion(), SignatureID: `${live.event.type}:${action}`, Name: `${live.event.type} ${action} ${live.event.result}`, Severity: cefSeverity });
        const { msg, ...rest } = cef.Extensions;
        const labels = Object.fromEntries(Object.entries(rest).filter(([key]) => key.endsWith('Label')));
        expect(labels).toEqual(CEF_LABELS);
        const values = Object.fromEntries(Object.entries(rest).filter(([key]) => !key.endsWith('Label')));
        expect(values).toEqual(meantExtensions(live));
        for (const key of Object.keys(cef.Extensions)) expect([...CEF_KEYS, ...Object.keys(CEF_LABELS)]).toContain(key);
        const { requestId, custom } = live.event;
        const requested = live.event.requested ?? null;
        const meantMsg = requestId === null && Object.keys(custom).length === 0 && requested === null ? undefined : { requestId, custom, ...(requested === null ? {} : { requested }) };
        expect(msg === undefined ? undefined : JSON.parse(msg)).toEqual(meantMsg);
      }

      // The hostile ones, spelled out: what rsyslog read is what was sent, but for the controls CEF cannot carry.
      const hostile = [...parsed.values()].filter((r) => r.cef?.Extensions.duser !== undefined).map((r) => (r.cef as NonNullable<ParsedRecord['cef']>).Extensions);
      expect(hostile).toHaveLength(3);
      for (const fields of hostile) expect(fields.duser).toBe('o\'brien "boss" ]x[ a=b c|d \\e\nsecond\rline\uFFFDtab\uFFFDbell\uFFFD[31mred\uFFFD ü € 😀\uFFFDend');
      expect(hostile.map((f) => [f.cs1, f.outcome])).toEqual([
        ['hr/payroll', 'ok'],
        ['hr/pay|roll]=1 "q"\\ü\nx\uFFFD', 'INVALID_ARGUMENT'],
        ['hr/payroll', denied.error?.code],
      ]);
      expect(hostile[0].cs5).toBe(HOSTILE_PURPOSE);
      expect(JSON.parse(hostile[0].msg)).toEqual({ requestId: expect.anything(), custom: HOSTILE_CUSTOM, requested: { name: 'hr/payroll', instance: null } });
      expect(Number(hostile[1].cn1)).toBeGreaterThan(Number(hostile[0].cn1));
    }
  }, 60_000);
});
