/**
 * `audit verify --from-file` in the domain (domain/audit/audit-file-verify.ts):
 * an exported file verifies; deleting, editing, reordering or inserting one
 * line is named (seq and line); a filtered export names its first gap; a
 * range export verifies from its first line, and against the keychain
 * catches a forged range; malformed and endless lines are INVALID_ARGUMENT
 * with their line number; the chunking of the stream never matters.
 */
import { AuditEvent, canonicalEvent } from '../../domain/audit/audit-event';
import { nextRecord } from '../../domain/audit/audit-chain';
import { auditLineOf, MAX_AUDIT_LINE_BYTES } from '../../protocol/audit-line';
import { verifyAuditFile } from '../../domain/audit/audit-file-verify';
import { readLines } from '../../domain/audit/line-reader';
import { AuditRecord } from '../../storage/audit-store';
import { MemoryAudit } from '../../storage/memory-audit';
import { rejectionCode } from '../support/error-code';

function event(n: number): AuditEvent {
  return {
    time: `2026-11-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`, eventId: `e${n}`, type: 'operation',
    identity: { name: 'app', role: 'app', fingerprint256: 'AA', subject: 'CN=app' },
    endUser: 'ünïcode "quoted"\n', purpose: null, source: null, operation: 'Get', key: `hr/k${n}`, instance: null,
    result: 'ok', requestId: n, custom: {},
  };
}

function trail(count: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let head: { seq: number; hash: Buffer } | null = null;
  for (let n = 1; n <= count; n++) {
    const record = nextRecord(head, canonicalEvent(event(n)));
    records.push(record);
    head = record;
  }
  return records;
}

const lines = (records: AuditRecord[]): string[] => records.map(auditLineOf);
const file = (ls: string[]): string => `${ls.join('\n')}\n`;
async function* chunks(text: string, size = 1 << 20): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
const verify = (text: string, size?: number, against?: MemoryAudit) => verifyAuditFile(chunks(text, size), { against });

describe('verify --from-file', () => {
  const records = trail(2500); // more than one verification batch
  const all = lines(records);

  it('passes an unfiltered export from genesis', async () => {
    expect(await verify(file(all))).toEqual({ ok: true, events: 2500, firstSeq: 1, lastSeq: 2500, start: 'genesis', comparedWithKeychain: false });
  });

  it('names a deleted event and the line where the chain broke', async () => {
    const cut = [...all.slice(0, 1499), ...all.slice(1500)]; // event 1500 gone
    expect(await verify(file(cut))).toMatchObject({ ok: false, firstBadSeq: 1500, line: 1500, events: 1499, reason: expect.stringMatching(/event 1500 is missing/) });
  });

  it('names an altered event (its text edited, hashes kept)', async () => {
    const edited = [...all];
    edited[6] = edited[6].replace('"result":"ok"', '"result":"PERMISSION_DENIED"');
    expect(await verify(file(edited))).toMatchObject({ ok: false, firstBadSeq: 7, line: 7, events: 6, reason: expect.stringMatching(/event 7 was altered/) });
  });

  it('names reordered events', async () => {
    const swapped = [...all];
    [swapped[3], swapped[4]] = [swapped[4], swapped[3]];
    expect(await verify(file(swapped))).toMatchObject({ ok: false, firstBadSeq: 4, line: 4 });
  });

  it('names a forged event re-chained into the file (its prevHash cannot match)', async () => {
    const forged = nextRecord({ seq: 9, hash: Buffer.alloc(32, 7) }, canonicalEvent(event(10)));
    const withForgery = [...all];
    withForgery[9] = auditLineOf(forged);
    expect(await verify(file(withForgery))).toMatchObject({ ok: false, firstBadSeq: 10, line: 10 });
  });

  it('reports a filtered export (gaps) as the first missing event', async () => {
    const filtered = all.filter((_, i) => i % 2 === 0); // seqs 1, 3, 5, …
    expect(await verify(file(filtered))).toMatchObject({ ok: false, firstBadSeq: 2, line: 2, reason: expect.stringMatching(/^event 2 is missing/) });
  });

  it('verifies a range export from its first line; against the keychain, a forged range is caught', async () => {
    const range = all.slice(1999);
    expect(await verify(file(range))).toEqual({ ok: true, events: 501, firstSeq: 2000, lastSeq: 2500, start: 'file', comparedWithKeychain: false });
    const stored = new MemoryAudit();
    stored.appendAuditRecords(records);
    expect(await verify(file(range), undefined, stored)).toMatchObject({ ok: true, start: 'keychain', comparedWithKeychain: true });
    // A self-consistent chain that is not the keychain's: the file alone cannot tell, the keychain can.
    let head: { seq: number; hash: Buffer } = { seq: 1999, hash: Buffer.alloc(32, 1) };
    const fake: string[] = [];
    for (let seq = 2000; seq <= 2003; seq++) {
      const record = nextRecord(head, canonicalEvent(event(seq)));
      fake.push(auditLineOf(record));
      head = record;
    }
    expect((await verify(file(fake))).ok).toBe(true);
    expect(await verify(file(fake), undefined, stored)).toMatchObject({ ok: false, firstBadSeq: 2000, line: 1, reason: expect.stringMatching(/differs from the keychain/) });
  });

  it('does not depend on how the stream is chunked (CRLF and a missing last newline too)', async () => {
    const small = lines(records.slice(0, 5));
    const text = `${small.join('\r\n')}`;
    for (let size = 1; size <= 64; size++) {
      expect(await verify(text, size)).toMatchObject({ ok: true, events: 5 });
    }
  });

  it('skips blank lines but counts them in line numbers', async () => {
    const text = `${all[0]}\n\n${all[1]}\n${all[3]}\n`;
    expect(await verify(text)).toMatchObject({ ok: false, firstBadSeq: 3, line: 4 });
  });

  it.each<[string, string, number]>([
    ['a truncated last line', `${all[0]}\n${all[1].slice(0, 80)}`, 2],
    ['a line that is not JSON', `${all[0]}\nhello\n`, 2],
    ['a JSON line without the fields', `${all[0]}\n{"seq":2}\n`, 2],
    ['an empty file', '', 0],
  ])('refuses %s with INVALID_ARGUMENT naming the line', async (_label, text, line) => {
    const failure = await verify(text).then(() => null, (err: { code: string; message: string }) => err);
    expect(failure?.code).toBe('INVALID_ARGUMENT');
    if (line > 0) expect(failure?.message).toMatch(new RegExp(`^line ${line}:`));
  });

  it('stops an endless line at MAX_AUDIT_LINE_BYTES without buffering it', async () => {
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from(`${all[0]}\n`);
      for (let i = 0; i < 1000; i++) yield Buffer.alloc(16 * 1024, 0x61); // 16 MB offered, no newline
    }
    let pulled = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of endless()) {
        pulled++;
        yield chunk;
      }
    }
    expect(await rejectionCode(verifyAuditFile(counted()))).toBe('INVALID_ARGUMENT');
    expect(pulled).toBeLessThan(MAX_AUDIT_LINE_BYTES / (16 * 1024) + 3);
  });

  it('readLines numbers lines and keeps UTF-8 split across chunks intact', async () => {
    const got: string[] = [];
    for await (const line of readLines(chunks('ä€\nb\n', 1), 100)) got.push(`${line.number}:${line.text}`);
    expect(got).toEqual(['1:ä€', '2:b']);
  });
});
