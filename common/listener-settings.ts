/**
 * The settings of the appliance's network entrances (common/config.ts
 * layers them like every other): where each listener binds, the limits
 * every connection is held to, and the event stream's and metrics'
 * listeners. Kept apart from config.ts so that a new listener adds its
 * setting and its check here.
 */
import type { SettingSpec } from './config';
import { ConfigError } from './errors';

/** The native protocol's address and port, and the limits every TLS connection is held to. */
export const CONNECTION_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'listen_address',
    env: 'STRONGROOM_LISTEN_ADDRESS',
    defaultValue: () => '127.0.0.1',
    meaning: 'Address `strongroom serve` listens on for the native protocol.',
  },
  {
    key: 'listen_port',
    env: 'STRONGROOM_LISTEN_PORT',
    defaultValue: () => '5700',
    meaning: 'TCP port of the native protocol (KMIP, later, uses 5696).',
  },
  {
    key: 'server_sans',
    env: 'STRONGROOM_SERVER_SANS',
    defaultValue: () => 'localhost,127.0.0.1',
    meaning: "Host names and IP addresses in the server certificate made by `strongroom init` (comma list).",
  },
  {
    key: 'max_frame_bytes',
    env: 'STRONGROOM_MAX_FRAME_BYTES',
    defaultValue: () => '1048576',
    meaning: 'Largest request frame accepted; a larger one closes the connection.',
  },
  {
    key: 'max_connections',
    env: 'STRONGROOM_MAX_CONNECTIONS',
    defaultValue: () => '1024',
    meaning: 'Most simultaneous client connections.',
  },
  {
    key: 'max_connections_per_client',
    env: 'STRONGROOM_MAX_CONNECTIONS_PER_CLIENT',
    defaultValue: () => '256',
    meaning: 'Most simultaneous connections of one client (certificate); beyond it SERVER_BUSY.',
  },
  {
    key: 'handshake_timeout_ms',
    env: 'STRONGROOM_HANDSHAKE_TIMEOUT_MS',
    defaultValue: () => '3000',
    meaning: 'A TLS handshake not finished in this time is dropped.',
  },
  {
    key: 'idle_timeout_ms',
    env: 'STRONGROOM_IDLE_TIMEOUT_MS',
    defaultValue: () => '300000',
    meaning: 'A connection that sends nothing for this long is closed.',
  },
  {
    key: 'frame_timeout_ms',
    env: 'STRONGROOM_FRAME_TIMEOUT_MS',
    defaultValue: () => '30000',
    meaning: 'A frame started and not finished in this time closes the connection.',
  },
  {
    key: 'rate_limit_per_second',
    env: 'STRONGROOM_RATE_LIMIT_PER_SECOND',
    defaultValue: () => '20000',
    meaning: 'Requests per second each client may make, over all its connections (bursts up to twice that).',
  },
];

/** The other listeners: the live event stream, KMIP (TTLV, and over HTTPS) and the metrics. */
export const LISTENER_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'events_address',
    env: 'STRONGROOM_EVENTS_ADDRESS',
    defaultValue: () => null,
    meaning: 'Address of the live event stream (WebSocket over mutual TLS). Unset: listen_address.',
  },
  {
    key: 'events_port',
    env: 'STRONGROOM_EVENTS_PORT',
    defaultValue: () => '5701',
    meaning: 'TCP port of the live event stream (wss://host:port/events); also the port `strongroom events` connects to.',
  },
  {
    key: 'kmip_port',
    env: 'STRONGROOM_KMIP_PORT',
    defaultValue: () => '5696',
    meaning: 'TCP port of the KMIP listener (TTLV over mutual TLS, docs/kmip.md) on listen_address; `off` serves no KMIP.',
  },
  {
    key: 'kmip_interop',
    env: 'STRONGROOM_KMIP_INTEROP',
    defaultValue: () => 'off',
    meaning: 'on: serve the Interop operation (a conformance test harness marks where each test case begins and ends, written to the audit trail); off: refuse it as an unknown operation.',
  },
  {
    key: 'kmip_https_port',
    env: 'STRONGROOM_KMIP_HTTPS_PORT',
    defaultValue: () => '5697',
    meaning: 'TCP port of KMIP over HTTPS (POST /kmip, TTLV, JSON or XML, mutual TLS, docs/kmip.md §4.1) on listen_address; `off` serves none.',
  },
  {
    key: 'metrics_address',
    env: 'STRONGROOM_METRICS_ADDRESS',
    defaultValue: () => '127.0.0.1',
    meaning: 'Address of the Prometheus metrics listener (docs/metrics.md); loopback by default, whatever listen_address is.',
  },
  {
    key: 'metrics_port',
    env: 'STRONGROOM_METRICS_PORT',
    defaultValue: () => '5702',
    meaning: 'TCP port of the metrics listener (GET /metrics); `off` serves no metrics.',
  },
  {
    key: 'metrics_tls',
    env: 'STRONGROOM_METRICS_TLS',
    defaultValue: () => 'off',
    meaning: 'on: the metrics listener is HTTPS and requires a client certificate from the appliance CA; off: plain HTTP.',
  },
  {
    key: 'max_event_subscribers',
    env: 'STRONGROOM_MAX_EVENT_SUBSCRIBERS',
    defaultValue: () => '64',
    meaning: 'Most simultaneous event stream subscribers; beyond it a new one gets HTTP 503 (SERVER_BUSY).',
  },
  {
    key: 'event_buffer_bytes',
    env: 'STRONGROOM_EVENT_BUFFER_BYTES',
    defaultValue: () => '1048576',
    meaning: 'Most bytes of events queued for one subscriber that does not read; beyond it the subscriber is dropped (close code 4408).',
  },
  {
    key: 'events_ping_interval_ms',
    env: 'STRONGROOM_EVENTS_PING_INTERVAL_MS',
    defaultValue: () => '30000',
    meaning: 'How often the event stream pings each subscriber; one that has not answered the previous ping is dropped.',
  },
];

/** Refuses a listener setting that is not a number, a port or on/off where it must be. */
export function checkListenerSettings(values: Readonly<Record<string, string | null>>): void {
  for (const key of ['listen_port', 'max_frame_bytes', 'max_connections', 'max_connections_per_client', 'handshake_timeout_ms', 'idle_timeout_ms', 'frame_timeout_ms', 'rate_limit_per_second']) {
    const value = values[key] ?? '';
    if (!/^\d+$/.test(value) || Number(value) < (key === 'listen_port' ? 0 : 1)) throw new ConfigError(`${key} must be a whole number, not "${value}"`);
  }
  if (Number(values.listen_port) > 65535) throw new ConfigError('listen_port must be at most 65535');
  for (const key of ['events_port', 'max_event_subscribers', 'event_buffer_bytes', 'events_ping_interval_ms']) {
    const value = values[key] ?? '';
    if (!/^\d+$/.test(value) || Number(value) < (key === 'events_port' ? 0 : 1)) throw new ConfigError(`${key} must be a whole number, not "${value}"`);
  }
  if (Number(values.events_port) > 65535) throw new ConfigError('events_port must be at most 65535');
  for (const key of ['kmip_port', 'kmip_https_port', 'metrics_port']) {
    const port = values[key] ?? '';
    if (port !== 'off' && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) throw new ConfigError(`${key} must be a port number (0 to 65535, 0: a free one) or off, not "${port}"`);
  }
  for (const key of ['metrics_tls', 'kmip_interop']) if (values[key] !== 'on' && values[key] !== 'off') throw new ConfigError(`${key} must be on or off, not "${values[key]}"`);
}
