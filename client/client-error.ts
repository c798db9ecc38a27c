/**
 * The one error class of the client library. A server error response
 * (docs/protocol.md §3.2, §7) becomes a StrongroomClientError with the
 * server's `code`, `message` and `details`; failures of the client itself use
 * codes from common/error-codes.ts: UNAVAILABLE (no connection, connection
 * lost; `details.errorCode` is the socket or TLS error code), TIMEOUT (no
 * response in time) and INVALID_ARGUMENT (bad options or arguments).
 *
 * Why not a subclass of common's StrongroomError: its `code` is the closed
 * union ErrorCode, and a client must pass through codes a newer server adds.
 * Here `code` is a string; branch on it, never on `message`. Details carry
 * codes and names, never key material or request payloads.
 */

/** Details from the server are any JSON object; the client's own are flat. */
export type ClientErrorDetails = Readonly<Record<string, unknown>>;

export class StrongroomClientError extends Error {
  readonly code: string;
  readonly details: ClientErrorDetails;

  constructor(code: string, message: string, options: { cause?: unknown; details?: ClientErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StrongroomClientError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export function isStrongroomClientError(err: unknown): err is StrongroomClientError {
  return err instanceof StrongroomClientError;
}

/** Codes that mean "the server could not be asked", as opposed to "the server said no". */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set(['UNAVAILABLE', 'TIMEOUT']);

export function isNetworkError(err: unknown): boolean {
  return isStrongroomClientError(err) && NETWORK_ERROR_CODES.has(err.code);
}

/** The code Node put on a socket or TLS error (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...), or a fallback. */
export function socketErrorCode(err: unknown, fallback: string): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(code) ? code : fallback;
}

export function unavailable(message: string, details: ClientErrorDetails, cause?: unknown): StrongroomClientError {
  return new StrongroomClientError('UNAVAILABLE', message, { details, cause });
}

export function invalidArgument(message: string, field: string): StrongroomClientError {
  return new StrongroomClientError('INVALID_ARGUMENT', message, { details: { field } });
}

/**
 * APPROVAL_REQUIRED (docs/protocol.md §6.3): the server stored the request
 * for officers' approval instead of running it. `requestId` and `digest` say
 * what the approvers approve (ApprovalApprove); `required` how many;
 * `expiresAt` until when. A key export's requester collects it with
 * ApprovalCollect once approved.
 */
export class ApprovalRequiredError extends StrongroomClientError {
  readonly requestId: string;
  readonly digest: string;
  readonly required: number;
  readonly expiresAt: string;

  constructor(message: string, details: ClientErrorDetails) {
    super('APPROVAL_REQUIRED', message, { details });
    this.name = 'ApprovalRequiredError';
    this.requestId = String(details.requestId ?? '');
    this.digest = String(details.digest ?? '');
    this.required = Number(details.required ?? 0);
    this.expiresAt = String(details.expiresAt ?? '');
  }
}

export function isApprovalRequired(err: unknown): err is ApprovalRequiredError {
  return err instanceof ApprovalRequiredError;
}
