/**
 * What a caller sends operations through: one request, one answer
 * (a result, or a StrongroomError with the wire's code and details). Over
 * the wire it is the client library (cli/backend/wire-client.ts); in local mode the
 * in-process transport into the same dispatcher (server/local/).
 */
import { OperationName } from './op-schemas';

export interface Requester {
  request<R>(op: OperationName, args?: Record<string, unknown>): Promise<R>;
  close(): Promise<void>;
}
