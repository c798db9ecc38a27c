/**
 * The one request type the dispatcher runs, whatever wire it came over
 * (docs/protocol.md §3.1 for the JSON wire): an operation with its typed,
 * already validated arguments, the request's meta, who asks and from where,
 * and the request id the audit trail records. A transport's codec makes it
 * (protocol/request.ts for JSON frames; KMIP and the CLI's local mode will
 * make the same); nothing past this point knows the wire.
 */
import { ClientIdentity } from '../domain/policy/identity';
import { OperationCall, OperationName } from '../protocol/op-schemas';

/** A request id as the client sent it (§3.1: a printable string or a non-negative integer), echoed and audited. */
export type RequestId = string | number;

export interface RequestMeta {
  readonly endUser?: string;
  readonly purpose?: string;
  /** A prototype-less map: a `__proto__` name is just a name. */
  readonly custom?: Readonly<Record<string, string>>;
}

/** The wires a request can arrive on. */
export type Transport = 'tls' | 'local' | 'kmip';

/** Where a request came from: its transport, and the peer's address when it has one (null for the in-process local mode). */
export interface RequestSource {
  readonly transport: Transport;
  readonly address: string | null;
}

/**
 * What a codec decodes from one request on its wire: the call (`op` narrows
 * `args`), its id and meta. Base64 fields in `args` are Buffers the
 * transport wipes once the request is answered.
 */
export type DecodedRequest<Op extends OperationName = OperationName> = OperationCall<Op> & {
  readonly id: RequestId;
  readonly meta: RequestMeta;
  /**
   * The client's key for a write it may retry (docs/protocol.md §3.5): a
   * repeat answers the stored result instead of running again
   * (operations/idempotency.ts). Only on the operations of
   * protocol/idempotency-key.ts.
   */
  readonly idempotencyKey?: string;
};

/** A decoded request with the identity its transport established and where it came from: what the dispatcher takes. */
export type Request<Op extends OperationName = OperationName> = DecodedRequest<Op> & {
  readonly identity: ClientIdentity;
  readonly source: RequestSource;
};
