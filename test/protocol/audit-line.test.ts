import { nextRecord, verifyRecords } from '../../domain/audit/audit-chain';
import { canonicalEvent, AuditEvent } from '../../protocol/audit-event';
import { auditLineOf, auditLineOfLive, parseAuditLine } from '../../protocol/audit-line';
import { AuditRecord } from '../../storage/audit-store';
import { codeOf } from '../support/error-code';

function event(n: number, key: string): AuditEvent {
  return {
    time: `2026-12-02T00:00:0${n}.000Z`, eventId: `e${n}`, type: 'operation',
    identity: { name: 'app', role: 'app', fingerprint256: 'AA:BB', subject: 'CN=app' },
    endUser: 'jörg|=\\\n', purpose: null, source: '127.0.0.1', operation: 'Get', key, instance: null,
    result: 'ok', requestId: n, custom: { b: '2', a: '1' },
  };
}

function chain(count: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let head: { seq: number; hash: Buffer } | null = null;
  for (let n = 1; n <= count; n++) {
    const record = nextRecord(head, canonicalEvent(event(n, `hr/key-${n}`)));
    records.push(record);
    head = record;
  }
  return records;
}

describe('audit export lines', () => {
  it('round-trip to records that verify as a chain', () => {
    const records = chain(5);
    const back = records.map((r, i) => parseAuditLine(auditLineOf(r), i + 1));
    expect(verifyRecords(back)).toEqual({ ok: true, events: 5 });
    expect(back.map((r) => r.event)).toEqual(records.map((r) => r.event));
  });

  it('the live form is the same bytes as the stored form', () => {
    const [r] = chain(1);
    expect(auditLineOfLive({ seq: r.seq, prevHash: r.prevHash.toString('hex'), hash: r.hash.toString('hex'), canonical: r.event })).toBe(auditLineOf(r));
  });

  it('an edited event in a line breaks the chain at that event', () => {
    const lines = chain(4).map(auditLineOf);
    lines[2] = lines[2].replace('hr/key-3', 'hr/key-X');
    const verdict = verifyRecords(lines.map((l, i) => parseAuditLine(l, i + 1)));
    expect(verdict).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it.each([
    ['not JSON', '{"seq":'],
    ['no hash', '{"seq":1,"prevHash":"00","event":{}}'],
    ['seq zero', `{"seq":0,"prevHash":"${'0'.repeat(64)}","hash":"${'0'.repeat(64)}","event":{}}`],
    ['event not an object', `{"seq":1,"prevHash":"${'0'.repeat(64)}","hash":"${'0'.repeat(64)}","event":"x"}`],
    ['too long', 'x'.repeat(70 * 1024)],
  ])('refuses a malformed line (%s) with INVALID_ARGUMENT', (_name, line) => {
    expect(codeOf(() => parseAuditLine(line, 7))).toBe('INVALID_ARGUMENT');
  });
});
