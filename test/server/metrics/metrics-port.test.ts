/**
 * Which port the metrics listener gets: metrics_port, `off` for none, a
 * free one when the key server's port is 0 (tests, `serve --port 0`), and
 * an explicit choice over both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../common/config';
import { metricsPortOf } from '../../../server/compose/metrics-listener';

describe('the metrics port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-metrics-port-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = (flags: Record<string, string> = {}) => loadConfig({ dataDir: dir, env: {}, flags });

  test('is metrics_port (5702 by default, on loopback), a free one beside a key server on port 0, none when off', () => {
    expect(config().values.metrics_address).toBe('127.0.0.1');
    expect(metricsPortOf(config(), undefined, undefined)).toBe(5702);
    expect(metricsPortOf(config({ metrics_port: '9102' }), undefined, 5700)).toBe(9102);
    expect(metricsPortOf(config(), undefined, 0)).toBe(0);
    expect(metricsPortOf(config({ metrics_port: 'off' }), undefined, 0)).toBeNull();
    expect(metricsPortOf(config({ metrics_port: 'off' }), 0, 5700)).toBe(0);
    expect(metricsPortOf(config(), null, 0)).toBeNull();
  });
});
