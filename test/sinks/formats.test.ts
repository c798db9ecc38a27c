/**
 * The SIEM formats: golden CEF, LEEF and RFC 5424 strings, and properties
 * (fast-check) that whatever a key name, user name, purpose or custom value
 * holds (`|`, `=`, `\`, `^`, newlines, tabs, non-ASCII), a SIEM's reader
 * gets it back and the record stays one line with its structure: exactly,
 * except that a control character its format has no escape for (TAB in CEF,
 * the other C0 and C1 controls, DEL, U+2028, U+2029) reads as U+FFFD.
 */
import fc from 'fast-check';
import { escapeCefExtension, escapeCefHeader, formatCef } from '../../sinks/cef';
import { escapeLeefHeader, escapeLeefValue, formatLeef } from '../../sinks/leef';
import { datagram, escapeSdValue, headerField, octetCountedFrame, syslogMessage } from '../../sinks/rfc5424';
import { auditEvent, liveChain, parseCef, parseLeef } from './sink-test-events';

const origin = { hostname: 'vault-1', procId: '4242', facility: 13 };
const nasty = 'hr|x=y\\z\nnew\r\tline ünï€😀^';
/** What a CEF reader gets back for `value`: CR and LF are escaped, every other control replaced. */
const cefShown = (value: string): string => value.replace(/[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/g, '\uFFFD');
/** What a LEEF reader gets back for `value`: TAB, CR and LF are escaped, every other control replaced. */
const leefShown = (value: string): string => value.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]/g, '\uFFFD');
/** What a header field reads as: CR/LF become a space, every other control is replaced. */
const headerShown = (value: string): string => cefShown(value.replace(/\r\n|[\r\n]/g, ' ')).replace(/\t/g, '\uFFFD');

describe('CEF', () => {
  it('escapes header pipes and backslashes, and extension backslashes, equals and newlines (golden)', () => {
    expect(escapeCefHeader('a|b\\c\nd')).toBe('a\\|b\\\\c d');
    expect(escapeCefExtension('a|b=c\\d\ne\rf')).toBe('a|b\\=c\\\\d\\ne\\rf');
    const [live] = liveChain([auditEvent(1)]);
    expect(formatCef(live, '0.1.0')).toBe(
      'CEF:0|Strongroom|Strongroom|0.1.0|operation:Get|operation Get ok|3|' +
        'rt=1772368496789 externalId=e-1 cat=operation act=Get outcome=ok suser=billing-app spriv=app duser=alice src=127.0.0.1 ' +
        `cs1Label=key cs1=hr/payroll cs2Label=instance cs2=inst-1 cs3Label=chainHash cs3=${live.hash} cs4Label=prevHash cs4=${'0'.repeat(64)} ` +
        'cs5Label=purpose cs5=payroll run cs6Label=certFingerprint cs6=AB:CD cn1Label=seq cn1=1 msg={"requestId":1,"custom":{}}',
    );
  });

  it('carries the reference as requested (an alias) beside the resolved key, in CEF msg and LEEF request', () => {
    const [live] = liveChain([auditEvent(1, { requested: { name: 'hr/current', instance: null } })]);
    expect(parseCef(formatCef(live, '0.1.0')).fields.msg).toBe('{"requestId":1,"custom":{},"requested":{"name":"hr/current","instance":null}}');
    expect(parseCef(formatCef(live, '0.1.0')).fields.cs1).toBe('hr/payroll');
    expect(parseLeef(formatLeef(live, '0.1.0')).fields.request).toBe('{"requestId":1,"custom":{},"requested":{"name":"hr/current","instance":null}}');
  });

  it('replaces TAB, C0 and C1 controls, DEL, U+2028 and U+2029, which CEF cannot escape, by U+FFFD (golden)', () => {
    expect(escapeCefExtension('a\tb\x85c\x1bd\u2028e\u2029f\x00g\x7fh\x9bi\r\nj')).toBe('a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFDh\uFFFDi\\r\\nj');
    expect(escapeCefHeader('a\tb\x85c|d\r\ne\u2028')).toBe('a\uFFFDb\uFFFDc\\|d e\uFFFD');
    expect(escapeCefExtension('plain text/ü€')).toBe('plain text/ü€');
  });

  it('carries a key name and user names holding | = \\ newlines and non-ASCII so that a CEF reader gets them back', () => {
    const [live] = liveChain([auditEvent(7, { key: `${nasty}/k`, endUser: nasty, identity: { name: nasty, role: 'app', fingerprint256: 'F', subject: 'CN=x' }, purpose: 'a=b', result: 'KEY_NOT_FOUND', operation: 'Get|Evil\nOp' })]);
    const record = formatCef(live, '1|2');
    const parsed = parseCef(record);
    expect(parsed.fields.cs1).toBe(cefShown(`${nasty}/k`));
    expect(parsed.fields.duser).toBe(cefShown(nasty));
    expect(parsed.fields.suser).toBe(cefShown(nasty));
    expect(parsed.fields.cs5).toBe('a=b');
    expect(parsed.fields.cn1).toBe(String(live.seq));
    expect(parsed.fields.cs3).toBe(live.hash);
    expect(parsed.header[3]).toBe('1|2');
    expect(parsed.header[4]).toBe('operation:Get|Evil Op');
    expect(parsed.header[6]).toBe('6');
    expect(record).toContain('ünï€😀');
  });

  it('property: any field value survives CEF escaping, and no record spans lines', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (key, user, op) => {
        const [live] = liveChain([auditEvent(1, { key, endUser: user, operation: op, custom: { note: user } })]);
        const parsed = parseCef(formatCef(live, '0.1.0'));
        expect(parsed.fields.cs1).toBe(cefShown(key));
        expect(parsed.fields.duser).toBe(cefShown(user));
        expect(parsed.fields.act).toBe(cefShown(op));
        expect(parsed.fields.msg).toBe(cefShown(JSON.stringify({ requestId: 1, custom: { note: user } })));
        expect(parsed.header[4]).toBe(headerShown(`operation:${op}`));
      }),
      { numRuns: 200 },
    );
  });
});

describe('LEEF 2.0', () => {
  it('escapes values and writes the caret delimiter in the header (golden)', () => {
    expect(escapeLeefValue('a^b=c\\d\te\nf\rg|h')).toBe('a\\^b\\=c\\\\d\\te\\nf\\rg|h');
    const [live] = liveChain([auditEvent(1, { endUser: null, purpose: null })]);
    expect(formatLeef(live, '0.1.0')).toBe(
      "LEEF:2.0|Strongroom|Strongroom|0.1.0|operation:Get|^|devTime=2026-03-01T12:34:56.789Z^devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX^cat=operation^sev=3^src=127.0.0.1^" +
        `usrName=billing-app^role=app^action=Get^result=ok^key=hr/payroll^instance=inst-1^seq=1^chainHash=${live.hash}^prevHash=${'0'.repeat(64)}^eventId=e-1^fingerprint=AB:CD^request={"requestId":1,"custom":{}}`,
    );
  });

  it('escapes TAB and replaces the other C0 and C1 controls, DEL, U+2028 and U+2029 by U+FFFD (golden)', () => {
    expect(escapeLeefValue('a\tb\x85c\x1bd\u2028e\u2029f\x00g\x7fh\r\ni')).toBe('a\\tb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\uFFFDh\\r\\ni');
    expect(escapeLeefHeader('a\tb\x85c|d\ne')).toBe('a\uFFFDb\uFFFDc\\|d e');
  });

  it('carries a key name and user names holding | = \\ ^ newlines and non-ASCII so that a LEEF reader gets them back', () => {
    const [live] = liveChain([auditEvent(3, { key: nasty, endUser: nasty, identity: { name: nasty, role: 'app', fingerprint256: 'F', subject: 'CN=x' }, type: 'auth-failure', operation: null })]);
    const record = formatLeef(live, '0.1.0');
    const parsed = parseLeef(record);
    expect(parsed.delimiter).toBe('^');
    expect(parsed.fields.key).toBe(nasty);
    expect(parsed.fields.usrName).toBe(nasty);
    expect(parsed.fields.endUser).toBe(nasty);
    expect(parsed.fields.seq).toBe(String(live.seq));
    expect(parsed.fields.sev).toBe('8');
    expect(record).toContain('ünï€😀');
  });

  it('property: any field value survives LEEF escaping, and no record spans lines', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (key, user, type) => {
        const [live] = liveChain([auditEvent(1, { key, endUser: user, type, purpose: user })]);
        const parsed = parseLeef(formatLeef(live, '0.1.0'));
        expect(parsed.fields.key).toBe(leefShown(key));
        expect(parsed.fields.endUser).toBe(leefShown(user));
        expect(parsed.fields.purpose).toBe(leefShown(user));
        expect(parsed.fields.cat).toBe(leefShown(type));
        expect(parsed.header[4]).toBe(headerShown(`${type}:Get`));
      }),
      { numRuns: 200 },
    );
  });
});

describe('RFC 5424', () => {
  it('writes PRI, version, the event time, host, app, procid, msgid and the chain in structured data (golden)', () => {
    const [live] = liveChain([auditEvent(1)]);
    expect(syslogMessage(live, 'BODY', origin)).toBe(`<110>1 2026-03-01T12:34:56.789Z vault-1 strongroom 4242 operation [strongroom@32473 seq="1" hash="${live.hash}" prevHash="${'0'.repeat(64)}"] \uFEFFBODY`);
    const [, refused] = liveChain([auditEvent(1), auditEvent(2, { result: 'PERMISSION_DENIED' })]);
    expect(syslogMessage(refused, 'B', { ...origin, facility: 4 })).toMatch(/^<37>1 /);
  });

  it('keeps header fields printable ASCII within their lengths and escapes SD values', () => {
    expect(headerField('host name\nü', 255)).toBe('host_name__');
    expect(headerField('', 48)).toBe('-');
    expect(headerField('x'.repeat(40), 32)).toHaveLength(32);
    expect(escapeSdValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
  });

  it('frames by octet count (bytes, not characters) for TCP and TLS', () => {
    expect(octetCountedFrame('ab€')).toBe('5 ab€');
  });

  it('cuts a datagram at a UTF-8 boundary and says so', () => {
    expect(datagram('abc', 10)).toEqual({ bytes: Buffer.from('abc'), truncated: false });
    const cut = datagram('ab€€', 6);
    expect(cut.truncated).toBe(true);
    expect(cut.bytes.toString('utf8')).toBe('ab€');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 64 }), (text, max) => {
        const { bytes } = datagram(text, max);
        expect(bytes.length).toBeLessThanOrEqual(max);
        expect(text.startsWith(bytes.toString('utf8'))).toBe(true);
      }),
    );
  });

  it('never cuts a datagram inside a backslash escape of the MSG, nor a JSON \\u escape', () => {
    const head = '<110>1 t h strongroom 1 operation [strongroom@32473 seq="1"] \uFEFF';
    const size = Buffer.byteLength(head);
    // `\\` `\\` `\=`: a cut after an odd number of backslashes moves back before the lone one.
    expect(datagram(`${head}ab\\\\\\=`, size + 5).bytes.toString('utf8')).toBe(`${head}ab\\\\`);
    expect(datagram(`${head}ab\\\\\\=`, size + 4).bytes.toString('utf8')).toBe(`${head}ab\\\\`);
    expect(datagram(`${head}ab\\\\\\=`, size + 3).bytes.toString('utf8')).toBe(`${head}ab`);
    // JSON's six-byte \\u001b, whole or not at all; an escaped backslash before "u" is no such escape.
    for (let cut = 3; cut < 8; cut++) expect(datagram(`${head}"x\\u001by"`, size + cut).bytes.toString('utf8')).toBe(`${head}"x`);
    expect(datagram(`${head}"x\\u001by"`, size + 8).bytes.toString('utf8')).toBe(`${head}"x\\u001b`);
    expect(datagram(`${head}x\\\\u00`, size + 5).bytes.toString('utf8')).toBe(`${head}x\\\\u0`);
    // A backslash in the header (before the BOM) is no escape of ours: left alone.
    expect(datagram('h\\\\\\ab', 2).bytes.toString('utf8')).toBe('h\\');
  });

  it('property: a cut CEF or LEEF record ends with whole escapes and whole characters, and is a prefix of the record', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const [live] = liveChain([auditEvent(1)]);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('\\', '=', '^', '|', 'a', 'é', '€', '😀', '\t', '\x85', '\x1b', '\u2028', '\n'), maxLength: 300 }), fc.boolean(), fc.integer({ min: 250, max: 1200 }), (user, leef, max) => {
        const [event] = liveChain([auditEvent(1, { endUser: user, key: user })]);
        const message = syslogMessage(live, leef ? formatLeef(event, '1') : formatCef(event, '1'), origin);
        const { bytes } = datagram(message, max);
        const text = decoder.decode(bytes);
        expect(message.startsWith(text)).toBe(true);
        expect(/(^|[^\\])(\\\\)*\\$/.test(text)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
