/**
 * Attack (Trust issue, lesser findings): CEF let TAB, NEL and U+2028 through
 * raw. A client chooses its request's end user, purpose and custom meta, and
 * the key name it asks for; all of them reach the SIEM. Raw, a TAB splits a
 * field for readers that split on it, NEL (U+0085) and U+2028/2029 break the
 * line for Unicode-aware readers (a forged second record), and ESC drives the
 * terminal of whoever reads the log. And a UDP datagram cut at its size cap
 * could end inside an escape (`…\` with its partner cut off) or inside a
 * UTF-8 sequence.
 *
 * The rule (sinks/control-characters.ts, sinks/cef.ts, sinks/leef.ts,
 * sinks/rfc5424.ts): CEF and LEEF escape what their format can escape and
 * replace every other control character by U+FFFD; a datagram is cut at a
 * character boundary and outside any escape. Real appliance (SoftHSM2,
 * SQLite, mTLS) with TCP and UDP syslog sinks in both formats, and real
 * receivers on 127.0.0.1.
 */
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { parseCef, parseLeef } from '../sinks/sink-test-events';
import { parseSyslog, Receiver, startStreamReceiver, startUdpReceiver, StreamReceiver, waitFor } from '../sinks/syslog-listeners';

/** Everything a SIEM line must not carry raw (CR and LF included), and `=`, `\` and `|` that the formats escape. */
const HOSTILE = 'a\tb\x85c\x1b[31md\u2028e\u2029f\r\ng=h\\i|j^k\x00l\x7fm\x9bn';
const RAW_CONTROLS = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;
/** The datagram cap of the UDP sinks: the MSG's end-user value runs across it (asserted below). */
const MAX_DATAGRAM = 600;

/** Whether `text` ends with a backslash that lost its partner (an odd run of them). */
const endsInsideEscape = (text: string): boolean => /(^|[^\\])(\\\\)*\\$/.test(text);

describe('attack 11: control characters and cut escapes reach the SIEM raw', () => {
  let app: TestAppliance;
  let cefTcp: StreamReceiver;
  let leefTcp: StreamReceiver;
  let cefUdp: Receiver;
  let leefUdp: Receiver;
  let conn: RawConnection;
  const headSeq = (): number => app.appliance.store.audit.auditHead()?.seq ?? 0;
  const lastSeq = (messages: string[]): number => (messages.length === 0 ? 0 : parseSyslog(messages[messages.length - 1]).seq);
  /** The message a receiver got for the audit event of seq `seq`. */
  const bySeq = (messages: string[], seq: number): string => {
    const found = messages.find((m) => parseSyslog(m).seq === seq);
    if (found === undefined) throw new Error(`no message for seq ${seq}`);
    return found;
  };

  beforeAll(async () => {
    [cefTcp, leefTcp, cefUdp, leefUdp] = await Promise.all([startStreamReceiver(), startStreamReceiver(), startUdpReceiver(), startUdpReceiver()]);
    app = await startTestAppliance({
      audit_sinks: 'cef-tcp, leef-tcp, cef-udp, leef-udp',
      'audit_sink.cef-tcp': `transport=syslog-tcp host=127.0.0.1 port=${cefTcp.port} format=cef`,
      'audit_sink.leef-tcp': `transport=syslog-tcp host=127.0.0.1 port=${leefTcp.port} format=leef`,
      'audit_sink.cef-udp': `transport=syslog-udp host=127.0.0.1 port=${cefUdp.port} format=cef max_datagram=${MAX_DATAGRAM} hostname=siem`,
      'audit_sink.leef-udp': `transport=syslog-udp host=127.0.0.1 port=${leefUdp.port} format=leef max_datagram=${MAX_DATAGRAM} hostname=siem`,
    });
    const client: Credentials = app.issue('siem-app', 'app');
    conn = await app.connect(client);
  });

  afterAll(async () => {
    conn?.destroy();
    await app?.stop();
    await Promise.all([cefTcp?.stop(), leefTcp?.stop(), cefUdp?.stop(), leefUdp?.stop()]);
  });

  /** Sends a Get the appliance refuses (no grant), with `meta`; returns the seq of its audit event once every TCP sink has it. */
  async function refusedGet(name: string, meta: Record<string, unknown>): Promise<number> {
    const res = await conn.request('Get', { name }, meta);
    expect(res.error).toBeDefined();
    const seq = headSeq();
    await waitFor(() => lastSeq(cefTcp.messages) >= seq && lastSeq(leefTcp.messages) >= seq, 'the TCP sinks to have the event');
    return seq;
  }

  it('writes CEF and LEEF lines with no TAB, C0/C1 control, DEL, U+2028/2029, CR or LF raw, and = \\ | escaped', async () => {
    const seq = await refusedGet(`hr/x${HOSTILE.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, '')}`, { endUser: HOSTILE, purpose: HOSTILE, custom: { note: HOSTILE } });
    const cef = parseSyslog(bySeq(cefTcp.messages, seq)).body;
    const leef = parseSyslog(bySeq(leefTcp.messages, seq)).body;
    expect(cef).not.toMatch(RAW_CONTROLS);
    expect(leef).not.toMatch(RAW_CONTROLS);
    // The structure holds: a reader of each format finds every field, and = \ | come back as sent.
    const cefFields = parseCef(cef).fields;
    const leefFields = parseLeef(leef).fields;
    const shown = HOSTILE.replace(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/g, '\uFFFD');
    expect(cefFields.duser).toBe(shown);
    expect(cefFields.cs5).toBe(shown);
    expect(cefFields.cn1).toBe(String(seq));
    expect(leefFields.endUser).toBe(HOSTILE.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/g, '\uFFFD'));
    expect(leefFields.seq).toBe(String(seq));
  });

  it('never ends a cut UDP datagram inside an escape sequence or a UTF-8 sequence', async () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    // Runs of two-byte escapes and of three-byte characters, at every alignment to the cut.
    const users = [0, 1].map((shift) => 'x'.repeat(shift) + '\\'.repeat(250)).concat([0, 1, 2].map((shift) => 'x'.repeat(shift) + '\u2028'.repeat(250)));
    const seqs: number[] = [];
    for (const endUser of users) seqs.push(await refusedGet('hr/nothing', { endUser }));
    await waitFor(() => seqs.every((seq) => received(cefUdp, seq) && received(leefUdp, seq)), 'the UDP receivers to have every datagram');
    for (const [receiver, field, next] of [[cefUdp, 'duser=', ' '], [leefUdp, 'endUser=', '^']] as const) {
      for (const seq of seqs) {
        const datagram = receiver.raw.find((bytes) => parseSyslog(bytes.toString('utf8')).seq === seq) as Buffer;
        expect(datagram.length).toBeLessThanOrEqual(MAX_DATAGRAM);
        const text = decoder.decode(datagram); // throws on a cut UTF-8 sequence
        const body = parseSyslog(text).body;
        // The cut falls inside the end user's value: the test exercises what it claims.
        expect(body).toContain(field);
        expect(body.slice(body.indexOf(field) + field.length)).not.toContain(next);
        expect(endsInsideEscape(body)).toBe(false);
      }
    }
  });
});

/** Whether a UDP receiver got the datagram of the event of seq `seq`. */
function received(receiver: Receiver, seq: number): boolean {
  return receiver.raw.some((bytes) => parseSyslog(bytes.toString('utf8')).seq === seq);
}
