/**
 * Decoding of one request payload (docs/protocol.md §3.1, §3.3 steps 3–4):
 * bounded JSON, then the envelope `{id, op, args?, meta?, idempotencyKey?}` (nothing else),
 * then the operation's argument schema, into the dispatcher's typed
 * DecodedRequest (operations/request.ts; a Batch's items decoded one by one,
 * a bad item kept as that item's error). Every failure is a RequestError (a
 * ProtocolError) carrying the request id when it could be read, so the server
 * can echo it (§3.2: null otherwise). Pure: no I/O, no clock, no logger, no
 * module state.
 */
import { ErrorDetails } from '../common/errors';
import { DecodedRequest, RequestId, RequestMeta } from '../operations/request';
import { JsonLimits, isJsonObject, ownField, parseJsonPayload } from './json-limits';
import { ArgsOf, OperationName, isOperationName, validateArgs } from './op-schemas';
import { ProtocolError, ProtocolErrorCode } from './protocol-error';
import { invalid, validateStringMap } from './schema';
import { checkIdempotencyKey, REPLAY_MARK } from './idempotency-key';

/**
 * The custom names the appliance itself writes on a request's own events,
 * and where: a request may not set them, or a client could make its event
 * say what the appliance did not (a replay that ran, a revocation message
 * it never gave).
 */
const APPLIANCE_CUSTOM_NAMES: ReadonlyArray<readonly [string, string]> = [
  [REPLAY_MARK, 'on the event of a write answered from its idempotency record'],
  ['revocationMessage', "on a Revoke's event, from its message argument"],
];

/** Longest string id (§3.1): ids are echoed and kept per in-flight request. */
export const MAX_ID_LENGTH = 64;
/** Longest `meta.endUser` and `meta.purpose` (§3.1): audit fields, not storage. */
export const MAX_META_TEXT = 256;
/** Most `meta.custom` entries (§3.1): each becomes an audit field on every event of the request. */
export const MAX_META_CUSTOM_ENTRIES = 16;
/** `meta.custom` names (§3.1): safe as audit field names. */
export const META_CUSTOM_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** A string id: 1–64 printable ASCII characters (§3.1), so it is safe to echo and log. */
const STRING_ID = /^[\x20-\x7e]{1,64}$/;

const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['id', 'op', 'args', 'meta', 'idempotencyKey']);
const META_FIELDS: ReadonlySet<string> = new Set(['endUser', 'purpose', 'custom']);

// The request types are the dispatcher's (transport-neutral); re-exported for the codec's users.
export type { DecodedRequest, RequestId, RequestMeta };

/** A rejected request: its code, and the id to echo (null when the id could not be read). */
export class RequestError extends ProtocolError {
  constructor(
    code: ProtocolErrorCode,
    message: string,
    readonly requestId: RequestId | null,
    details?: ErrorDetails,
  ) {
    super(code, message, details);
  }
}

/** The id to echo for any error thrown while decoding a request. */
export function requestIdOf(err: unknown): RequestId | null {
  return err instanceof RequestError ? err.requestId : null;
}

/** A valid id per §3.1, or null. */
export function readRequestId(value: unknown): RequestId | null {
  if (typeof value === 'string') return STRING_ID.test(value) ? value : null;
  // JSON cannot tell 1 from 1.0: both are the integer 1. -0 is 0.
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value === 0 ? 0 : value;
  return null;
}

function decodeMeta(value: unknown): RequestMeta {
  if (value === undefined) return {};
  if (!isJsonObject(value)) throw invalid('meta must be an object', 'meta', 'object');
  for (const key of Object.keys(value)) if (!META_FIELDS.has(key)) throw invalid('meta has an unknown field', `meta.${key}`);
  const text = (field: 'endUser' | 'purpose'): string | undefined => {
    const v = ownField(value, field);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length > MAX_META_TEXT) {
      throw invalid(`meta.${field} must be a string of at most ${MAX_META_TEXT} characters`, `meta.${field}`, 'string');
    }
    return v;
  };
  const meta: { endUser?: string; purpose?: string; custom?: Record<string, string> } = {};
  const endUser = text('endUser');
  const purpose = text('purpose');
  const custom = ownField(value, 'custom');
  if (endUser !== undefined) meta.endUser = endUser;
  if (purpose !== undefined) meta.purpose = purpose;
  if (custom !== undefined) meta.custom = validateStringMap('meta.custom', custom, MAX_META_CUSTOM_ENTRIES, META_CUSTOM_NAME, MAX_META_TEXT);
  for (const [name, why] of APPLIANCE_CUSTOM_NAMES) {
    if (meta.custom !== undefined && Object.prototype.hasOwnProperty.call(meta.custom, name)) throw invalid(`meta.custom.${name} is set by the appliance only (${why})`, `meta.custom.${name}`);
  }
  return meta;
}

function decodeEnvelope(message: Record<string, unknown>, id: RequestId | null): DecodedRequest {
  if (id === null) throw invalid('id is missing or invalid: a string of 1-64 printable ASCII characters or an integer 0..2^53-1', 'id');
  for (const key of Object.keys(message)) if (!ENVELOPE_FIELDS.has(key)) throw invalid('request has an unknown top-level field', key);
  const op = ownField(message, 'op');
  if (typeof op !== 'string') throw invalid('op must be a string', 'op', 'string');
  if (!isOperationName(op)) throw new ProtocolError('UNKNOWN_OPERATION', 'unknown operation');
  const given = ownField(message, 'args');
  const rawArgs = given === undefined ? {} : given;
  if (!isJsonObject(rawArgs)) throw invalid('args must be an object', 'args', 'object');
  const meta = decodeMeta(ownField(message, 'meta'));
  // Before the arguments: a key on an operation that takes none is refused whatever its arguments are.
  const idempotencyKey = checkIdempotencyKey(op, ownField(message, 'idempotencyKey'));
  const request = decoded(id, op, validateArgs(op, rawArgs), meta);
  return idempotencyKey === undefined ? request : { ...request, idempotencyKey };
}

/** Ties `op` to its arguments' type (the union DecodedRequest is, over every operation). */
function decoded<Op extends OperationName>(id: RequestId, op: Op, args: ArgsOf<Op>, meta: RequestMeta): DecodedRequest<Op> {
  return { id, op, args, meta };
}

/**
 * Decodes and validates one request payload (a frame's bytes).
 * Throws RequestError: MALFORMED_REQUEST (bytes/JSON/limits, id null),
 * INVALID_REQUEST (envelope or args), UNKNOWN_OPERATION.
 * @example decodeRequest(Buffer.from('{"id":"r-1","op":"Get","args":{"name":"hr/payroll"}}'), DEFAULT_JSON_LIMITS)
 */
export function decodeRequest(payload: Buffer, limits: JsonLimits): DecodedRequest {
  let id: RequestId | null = null;
  try {
    const message = parseJsonPayload(payload, limits) as Record<string, unknown>;
    id = readRequestId(ownField(message, 'id'));
    return decodeEnvelope(message, id);
  } catch (err) {
    if (err instanceof ProtocolError) {
      throw new RequestError(err.code as ProtocolErrorCode, err.message, id, Object.keys(err.details).length > 0 ? err.details : undefined);
    }
    throw err;
  }
}
