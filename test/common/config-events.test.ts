/**
 * The event stream's settings: defaults, and bad values refused with
 * CONFIG_INVALID at load time (not when the listener starts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { codeOf } from '../support/error-code';

describe('event stream settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-config-events-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to port 5701 on listen_address, 64 subscribers, 1 MiB per subscriber, a ping every 30 s', () => {
    const config = loadConfig({ dataDir: dir, env: {} });
    expect(config.values).toMatchObject({ events_address: null, events_port: '5701', max_event_subscribers: '64', event_buffer_bytes: '1048576', events_ping_interval_ms: '30000' });
  });

  it.each([
    ['STRONGROOM_EVENTS_PORT', '70000'],
    ['STRONGROOM_EVENTS_PORT', 'http'],
    ['STRONGROOM_MAX_EVENT_SUBSCRIBERS', '0'],
    ['STRONGROOM_EVENT_BUFFER_BYTES', '-1'],
    ['STRONGROOM_EVENTS_PING_INTERVAL_MS', '1.5'],
  ])('refuses %s=%s', (variable, value) => {
    expect(codeOf(() => loadConfig({ dataDir: dir, env: { [variable]: value } }))).toBe('CONFIG_INVALID');
  });
});
