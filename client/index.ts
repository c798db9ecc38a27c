/** The Strongroom client library's public surface (docs/protocol.md). */
export { StrongroomClient } from './strongroom-client';
export { StrongroomClientError, isStrongroomClientError, isNetworkError, ApprovalRequiredError, isApprovalRequired } from './client-error';
export type { StrongroomClientOptions, ClientSettings, OneServer, SeveralServers, ServerAddress, KeyCacheOptions } from './options';
export * from './types';
export { EventStream } from './event-stream';
export { generateClientKeyPair, toPkcs12 } from './credentials';
export type { ClientKeyPair, ToPkcs12Options } from './credentials';
export type { EventStreamOptions, EventFilterOptions, StreamEvent, StreamRead } from './event-stream';
