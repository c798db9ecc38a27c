/** The Strongroom client library's public surface (docs/protocol.md). */
export { StrongroomClient } from './strongroom-client';
export { StrongroomClientError, isStrongroomClientError, isNetworkError, ApprovalRequiredError, isApprovalRequired } from './client-error';
export type { StrongroomClientOptions, KeyCacheOptions } from './options';
export * from './types';
