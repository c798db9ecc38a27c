/**
 * The event stream's listener as the configuration describes it
 * (events_address, events_port, max_event_subscribers, event_buffer_bytes,
 * events_ping_interval_ms, handshake_timeout_ms), so that wiring it into a
 * running appliance is one call.
 */
import { ApplianceConfig, numberSetting, setting } from '../../common/config';
import { EventServer, EventServerOptions } from './event-server';

export type EventServerDependencies = Pick<EventServerOptions, 'certificatePem' | 'privateKeyPem' | 'caPem' | 'clock' | 'timers' | 'newId' | 'bus' | 'resolveIdentity' | 'onAuthFailure' | 'recordAudit' | 'onInternalError'>;

/** The address the event stream listens on: events_address, else listen_address. */
export function eventsAddress(config: ApplianceConfig): string {
  return config.values.events_address || setting(config, 'listen_address');
}

/** `port` overrides events_port (0: a free port). The listener zeroes `privateKeyPem` once node:tls has it. */
export function eventServerFromConfig(config: ApplianceConfig, dependencies: EventServerDependencies, port?: number): EventServer {
  return new EventServer({
    ...dependencies,
    host: eventsAddress(config),
    port: port ?? numberSetting(config, 'events_port'),
    handshakeTimeoutMs: numberSetting(config, 'handshake_timeout_ms'),
    maxSubscribers: numberSetting(config, 'max_event_subscribers'),
    maxBufferedBytes: numberSetting(config, 'event_buffer_bytes'),
    pingIntervalMs: numberSetting(config, 'events_ping_interval_ms'),
  });
}
