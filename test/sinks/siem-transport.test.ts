/**
 * One sink's encoding and set-up: the wire form per transport (JSON line,
 * octet-counted RFC 5424, a datagram cut to its cap with the chain SD
 * intact and the cut counted), and a TLS sink whose CA file cannot be read
 * failing at start with CONFIG_INVALID naming the sink and the field.
 */
import { ManualClock } from '../../common/clock';
import { StrongroomError } from '../../common/errors';
import { auditLineOfLive } from '../../protocol/audit-line';
import { SiemTransport } from '../../sinks/siem-transport';
import { parseSinkSpec } from '../../sinks/sink-spec';
import { auditEvent, liveChain, parseCef } from './sink-test-events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileChannel } from '../../sinks/channels';
import { ManualTimers } from '../support/manual-timers';
import { parseSyslog } from './syslog-listeners';

const clock = new ManualClock(0);
const deps = { clock, timers: new ManualTimers(clock), version: '1.2.3', hostname: 'vault-1', procId: '77', channel: { connected: false, send: async () => undefined, close: () => undefined } };
const parseCefBody = (bytes: Buffer): Record<string, string> => parseCef(parseSyslog(bytes.toString('utf8')).body).fields;
const transport = (line: string): SiemTransport => new SiemTransport(parseSinkSpec('t', line, '/data'), deps);

describe('sink transport encoding', () => {
  const [live] = liveChain([auditEvent(1, { endUser: 'é'.repeat(600) })]);

  it('writes the export line to a file sink, one per line', () => {
    expect(transport('transport=file path=x').encode(live)).toBe(`${auditLineOfLive(live)}\n`);
  });

  it('frames TCP syslog by octet count, with the chain in structured data', () => {
    const frame = transport('transport=syslog-tcp host=h format=leef hostname=siem-feed').encode(live) as string;
    const [count, ...rest] = frame.split(' ');
    const message = rest.join(' ');
    expect(Number(count)).toBe(Buffer.byteLength(message));
    expect(parseSyslog(message)).toMatchObject({ seq: 1, hash: live.hash, msgId: 'operation' });
    expect(message).toContain(' siem-feed strongroom 77 operation ');
    expect(parseSyslog(message).body.startsWith('LEEF:2.0|Strongroom|Strongroom|1.2.3|')).toBe(true);
  });

  it('cuts a UDP datagram to max_datagram at a character boundary, keeps the chain SD, and counts the cut', () => {
    const udp = transport('transport=syslog-udp host=h format=cef max_datagram=480');
    const bytes = udp.encode(live) as Buffer;
    expect(bytes.length).toBeLessThanOrEqual(480);
    expect(parseSyslog(bytes.toString('utf8'))).toMatchObject({ seq: 1, hash: live.hash });
    expect(bytes.toString('utf8')).not.toContain('\uFFFD');
    expect(udp.stats().truncated).toBe(1);
    const roomy = transport('transport=syslog-udp host=h format=cef');
    const [short] = liveChain([auditEvent(1)]);
    expect(parseCefBody(roomy.encode(short) as Buffer)).toMatchObject({ cn1: '1', cs3: short.hash });
    expect(roomy.stats().truncated).toBe(0);
  });

  it('refuses at start a TLS sink whose CA file cannot be read', () => {
    let error: StrongroomError | null = null;
    try {
      new SiemTransport(parseSinkSpec('tls-siem', 'transport=syslog-tls host=h ca=/nonexistent/ca.pem', '/data'), { ...deps, channel: undefined });
    } catch (err) {
      error = err as StrongroomError;
    }
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.details).toEqual({ sink: 'tls-siem', field: 'ca' });
  });
});

describe('the file channel', () => {
  it('makes a missing folder (0700) for its file (0600), as the documented path=audit/trail.jsonl needs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-channel-'));
    try {
      const path = join(dir, 'audit', 'nested', 'trail.jsonl');
      const channel = new FileChannel(path);
      await channel.send([Buffer.from('one\n')]);
      channel.close();
      expect(readFileSync(path, 'utf8')).toBe('one\n');
      expect(statSync(join(dir, 'audit')).mode & 0o777).toBe(0o700);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
