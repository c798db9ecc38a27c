/**
 * The sink lines of the appliance config: defaults, paths, and a
 * CONFIG_INVALID naming the sink and the field for every kind of mistake;
 * and the config loader's layering of audit_sink.<name> lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { StrongroomError } from '../../common/errors';
import { DEFAULT_QUEUE_CAPACITY, parseSinkSpec, sinkEnvName, sinkSpecsOf } from '../../sinks/sink-spec';
import { codeOf } from '../support/error-code';

function failure(line: string): { code: string; field: unknown; sink: unknown } {
  try {
    parseSinkSpec('siem', line, '/data');
  } catch (err) {
    const error = err as StrongroomError;
    return { code: error.code, field: error.details.field, sink: error.details.sink };
  }
  return { code: 'NO_ERROR', field: null, sink: null };
}

describe('audit sink settings', () => {
  it('reads a full TCP sink line and fills the defaults', () => {
    const spec = parseSinkSpec('siem', 'transport=syslog-tcp host=10.0.0.5 format=cef types=operation,auth-failure namespaces=hr,eu/pay rate=500', '/data');
    expect(spec).toMatchObject({ name: 'siem', transport: 'syslog-tcp', host: '10.0.0.5', port: 514, format: 'cef', types: ['operation', 'auth-failure'], namespaces: ['hr', 'eu/pay'], ratePerSecond: 500, queueCapacity: DEFAULT_QUEUE_CAPACITY, facility: 13 });
    expect(parseSinkSpec('s', 'transport=syslog-tls host=siem.example ca=pki/siem-ca.pem', '/data')).toMatchObject({ port: 6514, caFile: '/data/pki/siem-ca.pem', format: 'json', ratePerSecond: null, types: null, namespaces: null });
    expect(parseSinkSpec('s', 'transport=file path=/var/log/sr.jsonl', '/data')).toMatchObject({ path: '/var/log/sr.jsonl', port: null });
    expect(parseSinkSpec('s', 'transport=syslog-udp host=::1 max_datagram=8192 queue=50', '/data')).toMatchObject({ maxDatagramBytes: 8192, queueCapacity: 50 });
    expect(parseSinkSpec('s', 'transport=relp host=10.0.0.7 format=cef', '/data')).toMatchObject({ transport: 'relp', port: 2514, format: 'cef' });
    expect(parseSinkSpec('s', 'transport=relp-tls host=siem.example ca=pki/ca.pem cert=c.pem key=k.pem', '/data')).toMatchObject({ port: 2514, caFile: '/data/pki/ca.pem', certFile: '/data/c.pem' });
  });

  it.each([
    ['missing transport', 'host=a', 'transport'],
    ['unknown transport', 'transport=carrier-pigeon host=a', 'transport'],
    ['unknown field', 'transport=syslog-tcp host=a colour=red', 'colour'],
    ['repeated field', 'transport=syslog-tcp host=a host=b', 'host'],
    ['not a pair', 'transport=syslog-tcp host=a oops', 'oops'],
    ['empty value', 'transport=syslog-tcp host=', 'host'],
    ['no host', 'transport=syslog-udp', 'host'],
    ['no path', 'transport=file', 'path'],
    ['file in CEF', 'transport=file path=x format=cef', 'format'],
    ['unknown format', 'transport=syslog-tcp host=a format=xml', 'format'],
    ['port out of range', 'transport=syslog-tcp host=a port=70000', 'port'],
    ['port not a number', 'transport=syslog-tcp host=a port=ssh', 'port'],
    ['zero queue', 'transport=syslog-tcp host=a queue=0', 'queue'],
    ['huge queue', 'transport=syslog-tcp host=a queue=99999999', 'queue'],
    ['negative rate', 'transport=syslog-tcp host=a rate=-1', 'rate'],
    ['facility 24', 'transport=syslog-tcp host=a facility=24', 'facility'],
    ['TLS field on TCP', 'transport=syslog-tcp host=a ca=x.pem', 'ca'],
    ['TLS field on plain RELP', 'transport=relp host=a ca=x.pem', 'ca'],
    ['datagram cap on RELP', 'transport=relp host=a max_datagram=4096', 'max_datagram'],
    ['path on syslog', 'transport=syslog-tcp host=a path=x', 'path'],
    ['tiny datagram', 'transport=syslog-udp host=a max_datagram=100', 'max_datagram'],
    ['cert without key', 'transport=syslog-tls host=a cert=c.pem', 'key'],
    ['bad type', 'transport=syslog-tcp host=a types=Operation', 'types'],
    ['bad namespace', 'transport=syslog-tcp host=a namespaces=hr,/x', 'namespaces'],
  ])('refuses a line with %s, naming the sink and the field', (_what, line, field) => {
    expect(failure(line)).toEqual({ code: 'CONFIG_INVALID', field, sink: 'siem' });
  });

  it('refuses bad sink lists and a listed sink without its line', () => {
    expect(codeOf(() => sinkSpecsOf({ audit_sinks: 'Bad Name' }, '/d'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => sinkSpecsOf({ audit_sinks: 'a,a' }, '/d'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => sinkSpecsOf({ audit_sinks: 'a' }, '/d'))).toBe('CONFIG_INVALID');
    expect(sinkSpecsOf({ audit_sinks: '' }, '/d')).toEqual([]);
    expect(sinkEnvName('hr-siem')).toBe('STRONGROOM_AUDIT_SINK_HR_SIEM');
  });

  describe('in the config loader', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-sinkconf-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('layers audit_sink.<name> from the file, the environment and flags', () => {
      writeFileSync(join(dir, 'appliance.conf'), 'audit_sinks = siem, hr-siem\naudit_sink.siem = transport=file path=audit.jsonl\naudit_sink.hr-siem = transport=syslog-tcp host=a\n');
      const fromFile = loadConfig({ dataDir: dir, env: {} });
      expect(sinkSpecsOf(fromFile.values, fromFile.dataDir).map((s) => [s.name, s.transport, s.path])).toEqual([
        ['siem', 'file', join(dir, 'audit.jsonl')],
        ['hr-siem', 'syslog-tcp', null],
      ]);
      const fromEnv = loadConfig({ dataDir: dir, env: { STRONGROOM_AUDIT_SINK_HR_SIEM: 'transport=syslog-udp host=b' } });
      expect(fromEnv.sources['audit_sink.hr-siem']).toBe('env');
      expect(sinkSpecsOf(fromEnv.values, dir)[1]).toMatchObject({ transport: 'syslog-udp', host: 'b' });
      const fromFlag = loadConfig({ dataDir: dir, env: {}, flags: { 'audit_sink.siem': 'transport=file path=/tmp/x.jsonl' } });
      expect(sinkSpecsOf(fromFlag.values, dir)[0].path).toBe('/tmp/x.jsonl');
    });

    it('refuses a sink line that audit_sinks does not name (a typo would silently send nothing)', () => {
      writeFileSync(join(dir, 'appliance.conf'), 'audit_sinks = siem\naudit_sink.seim = transport=file path=a\n');
      expect(codeOf(() => loadConfig({ dataDir: dir, env: {} }))).toBe('CONFIG_INVALID');
    });
  });
});
