/**
 * The limits a server announces in Query (docs/protocol.md §6.1), apart from
 * the operation context so the client library can take the type alone.
 */
export interface ServerLimits {
  readonly maxFrameBytes: number;
  readonly maxJsonDepth: number;
  readonly maxJsonElements: number;
  readonly maxBatchItems: number;
  readonly maxInFlight: number;
  readonly rateLimitPerSecond: number;
}
