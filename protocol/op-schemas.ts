/**
 * The argument schema of every operation in docs/protocol.md §6 (including
 * Batch, §4, and the officer-only operations); the typed arguments of each
 * (OperationArgs, derived from those schemas); and `validateArgs`, which
 * checks a request's `args` against its operation's schema and returns new
 * objects of that type, base64 fields decoded to Buffers. Only the wire shape is
 * checked here (types, lengths, ranges, enums); names, algorithms and usage
 * are re-checked by the domain. Pure: no I/O, no clock, no logger, no module
 * state (the tables below are frozen constants).
 */
import { USAGE_LIMIT_UNITS } from '../domain/vocabulary/usage-limit-units';
import { StrongroomError } from '../common/errors';
import { ProtocolError } from './protocol-error';
import { FieldSpec, Schema, invalid, quoteName, validateObject } from './schema';
import { CLIENT_ROLES } from '../domain/vocabulary/client-roles';
import { DUAL_CONTROL_CLASSES, MAX_QUORUM } from '../domain/vocabulary/dual-control-classes';
import { ATTRIBUTE_NAME_PATTERN, MAX_ATTRIBUTE_NAME, MAX_ATTRIBUTE_VALUE, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION } from '../domain/vocabulary/key-metadata-limits';
import { ArgsFromSchema } from './schema-types';
import { MAX_BACKUP_CHUNK_BYTES, MAX_BACKUP_NAME_LENGTH, MAX_BACKUP_UPLOAD_BYTES } from '../domain/vocabulary/backup-limits';
import { GCM_STREAM_CORRELATION_BYTES, MAX_CHACHA20_COUNTER, MAX_GCM_IV_BYTES, MAX_TAG_BYTES, RAW_MODES } from '../domain/vocabulary/cipher-modes';

/** Most items in one Batch (§4): bounds the work and the audit events one request can cause. */
export const MAX_BATCH_ITEMS = 64;
/** Longest key, instance, client, group or pattern name: names are log fields and index keys, not storage. */
export const MAX_NAME_LENGTH = 200;
/** Longest SPKI public key PEM: an RSA-8192 public key is ~1.5 KB; anything bigger is not a key. */
export const MAX_PEM_LENGTH = 16384;
/** Most entries in a usage, groups or permissions list: a client cannot make one request cost thousands of checks. */
export const MAX_LIST_ITEMS = 32;
/** Longest short token: algorithm names, ISO 8601 dates and durations, usage and permission names, grant ids. */
export const MAX_TOKEN_LENGTH = 64;
/** Locate page size (§6: 1–1000): bounds one response. */
export const MAX_LOCATE_LIMIT = 1000;
/** AuditSearch page size (§6: 1–1000): bounds one response (domain/audit/audit-search.ts searches with it). */
export const MAX_AUDIT_SEARCH_LIMIT = 1000;
/** AuditSearch page size when the caller names none. */
export const DEFAULT_AUDIT_SEARCH_LIMIT = 100;
/** The period a Report covers when `from` is not given: this many days before `to`. */
export const DEFAULT_REPORT_DAYS = 30;
/** Largest Locate offset: keeps offsets in a range every store handles exactly. */
export const MAX_LOCATE_OFFSET = 2 ** 31 - 1;
/** Longest unseal share text (docs/protocol.md: sr1-…, spaces allowed): a share is about 65 characters; bounds the work on hostile input. */
export const MAX_SHARE_TEXT_LENGTH = 256;
/**
 * Operations refused inside a Batch before they run: each changes the
 * appliance's state asynchronously (a share taken, the HSM called), which a
 * Batch item cannot wait for.
 */
export const UNBATCHED_OPERATIONS = ['UnsealSubmit', 'MasterKeyRotate', 'MasterKeyStatus', 'BackupCreate', 'ServerCertRenew', 'BackupRestore', 'BackupUpload', 'ClusterStatus'] as const;
/** Longest certificate validity a client may be issued (§6: CA/Browser Forum's old 825-day ceiling). */
export const MAX_VALIDITY_DAYS = 825;

export const OPERATION_NAMES = [
  'Query', 'Create', 'Register', 'Get', 'Locate', 'GetAttributes', 'SetCustomAttributes', 'ReKey', 'Activate', 'Revoke', 'Destroy',
  'Encrypt', 'Decrypt', 'GenerateDataKey', 'DecryptDataKey', 'MAC', 'MACVerify', 'RandomBytes', 'Batch',
  'ClientIssue', 'ClientList', 'ClientRevoke', 'PolicyGrant', 'PolicyRevoke', 'PolicyList', 'PolicyCheck',
  'SetRolloverPolicy', 'RolloverDue', 'RolloverRun', 'DestroyCancel', 'UndoRollover',
  'AliasSet', 'AliasRemove', 'AliasList', 'NamespaceList', 'NamespaceRemove',
  'AuditSearch', 'AuditVerify', 'Report',
  'UnsealStatus', 'UnsealSubmit', 'UnsealReset', 'Seal', 'MasterKeyStatus', 'MasterKeyRotate',
  'ApprovalList', 'ApprovalGet', 'ApprovalApprove', 'ApprovalDeny', 'ApprovalCancel', 'ApprovalCollect', 'ApprovalQuorums', 'ApprovalQuorumSet',
  'Interop', 'Log', 'Export', 'Check',
  'BackupCreate', 'BackupRead', 'BackupRestore', 'BackupUpload',
  'BackupList',
  'ClientRenew', 'ServerCertRenew',
  'ClusterStatus',
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

/** KMIP Revocation Reason Codes (KMIP 1.4 §9.1.3.2.19), in the protocol's spelling. */
export const REVOCATION_REASONS = [
  'unspecified', 'keyCompromise', 'caCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn',
] as const;
/** The client roles and dual-control classes are the domain's vocabulary (domain/vocabulary/), named here for the wire's users. */
export { CLIENT_ROLES, DUAL_CONTROL_CLASSES, MAX_QUORUM };
/**
 * Permissions a grant can give (§5). PolicyGrant's codec bounds the list;
 * domain/policy/permissions.ts checks each name and decides which one each
 * key operation needs.
 */
export const PERMISSIONS = [
  'get', 'locate', 'get-attributes', 'modify-attributes', 'create', 'register', 'rekey', 'activate', 'revoke', 'destroy',
  'encrypt', 'decrypt', 'generate-data-key', 'decrypt-data-key', 'mac',
] as const;
export const ROLLOVER_MODES = ['auto', 'manual', 'none'] as const;
export const DATA_KEY_ALGORITHMS = ['AES-128', 'AES-256'] as const;
/** Encrypt and Decrypt's raw modes (§6.1; domain/raw-ciphers.ts); without `mode` they use the appliance's envelope. */
export const CIPHER_MODES = RAW_MODES;
/** Most bytes one RandomBytes returns: keys, nonces, salts, not bulk data. */
export const MAX_RANDOM_BYTES = 65536;

/** Longest Log message: a line for the audit trail, not a document. */
export const MAX_LOG_MESSAGE = 256;
/** Longest Revoke message: a sentence for the audit trail. */
export const MAX_REVOCATION_MESSAGE = 200;
/** Interop's functions (KMIP 2.1 §6.1.24: a test harness begins, ends or resets a test case). */
export const INTEROP_FUNCTIONS = ['begin', 'end', 'reset'] as const;
/** Longest Interop identifier: a test case's name ("BL-M-13-21"), written into the audit trail, so kept short. */
export const MAX_INTEROP_IDENTIFIER = 64;

/** How Export wraps material (§6.5): RFC 5649 under an appliance AES key, or RSA-OAEP-SHA256 under the requester's public key. */
export const WRAP_METHODS = ['AES-KWP', 'RSA-OAEP-SHA256'] as const;

/** Approval list filters (§6.3): a state, or `open` for pending and approved. */
export const APPROVAL_LIST_STATES = ['open', 'pending', 'approved', 'executing', 'executed', 'failed', 'denied', 'cancelled', 'expired'] as const;
/** Most requests one ApprovalList answers. */
export const MAX_APPROVAL_LIST_LIMIT = 500;
/** Longest denial reason: a sentence for the audit trail, not a document. */
export const MAX_DENY_REASON_LENGTH = 500;
/** Approval request ids are UUIDs (36 characters); a little slack, no more. */
const approvalId = { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH } as const satisfies FieldSpec;

// The schemas keep their literal types (`as const satisfies`): the typed arguments below are derived from them.
const name = { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH } as const satisfies FieldSpec;
const optionalName = { ...name, optional: true } as const satisfies FieldSpec;
const token = { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH, optional: true } as const satisfies FieldSpec;
const binary = { type: 'base64' } as const satisfies FieldSpec;
const optionalBinary = { type: 'base64', optional: true } as const satisfies FieldSpec;
const stringList = { type: 'string[]', optional: true, maxItems: MAX_LIST_ITEMS, maxLength: MAX_TOKEN_LENGTH } as const satisfies FieldSpec;

/** Custom attributes: names of letters, digits, ".", "_", "-"; string values (domain/vocabulary/key-metadata-limits.ts). */
const customAttributes = { type: 'stringMap', optional: true, maxEntries: MAX_CUSTOM_ATTRIBUTES, keyPattern: ATTRIBUTE_NAME_PATTERN, maxLength: MAX_ATTRIBUTE_VALUE } as const satisfies FieldSpec;

const createFields = {
  name,
  algorithm: token,
  usage: stringList,
  description: { type: 'string', optional: true, maxLength: MAX_DESCRIPTION },
  owner: { type: 'string', optional: true, maxLength: MAX_ATTRIBUTE_VALUE },
  attributes: customAttributes,
  rollover: { type: 'enum', optional: true, values: ROLLOVER_MODES },
  cryptoperiod: token,
  protectPeriod: token,
  processPeriod: token,
  /** An ISO 8601 date-time in the future: the first instance is PreActive until then (the domain checks it). */
  activateAt: token,
  /** False: the first instance is PreActive until an Activate (or its `activateAt`), as KMIP's Create leaves an object. Default true. */
  activate: { type: 'boolean', optional: true },
  /** ISO 8601 date-times with a zone, past or future: the first instance never encrypts from `protectStopAt`, never decrypts before `processStartAt`. */
  protectStopAt: token,
  processStartAt: token,
  /** A usage limit of the first instance (domain/usage-limits.ts), both or neither: a total of bytes of data or of operations, fixed once made. */
  usageLimitTotal: { type: 'integer', optional: true, min: 1, max: Number.MAX_SAFE_INTEGER },
  usageLimitUnit: { type: 'enum', optional: true, values: USAGE_LIMIT_UNITS },
  /** True: the key's material is never served in the clear (Get answers SENSITIVE); set at creation only. Default false. */
  sensitive: { type: 'boolean', optional: true },
  /** An ISO 8601 date-time with a zone, past or future: from it the first instance is Deactivated (KMIP's Deactivation Date). */
  processStopAt: token,
} as const satisfies Schema['fields'];

/** Characters of the base64 of `bytes` bytes (with padding). */
const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);
/** MAC and MACVerify's `algorithm?`: when given, the key must be of it (a KMIP client names it in Cryptographic Parameters). */
export const MAC_ALGORITHMS = ['HMAC-SHA256', 'HMAC-SHA512'] as const;
const macAlgorithm = { type: 'enum', optional: true, values: MAC_ALGORITHMS } as const satisfies FieldSpec;
const cipherMode = { type: 'enum', optional: true, values: CIPHER_MODES } as const satisfies FieldSpec;
const ivBytes = { type: 'base64', optional: true, maxLength: base64Length(MAX_GCM_IV_BYTES) } as const satisfies FieldSpec;
/** CHACHA20's first block counter (KMIP's Initial Counter Value). */
const initialCounter = { type: 'integer', optional: true, min: 0, max: MAX_CHACHA20_COUNTER } as const satisfies FieldSpec;

/** `name?`, `instance?`, at least one (§6: instance alone, name alone, or both). */
const keyRef = { fields: { name: optionalName, instance: optionalName }, atLeastOneOf: [['name', 'instance']] } as const satisfies Schema;

export const OP_SCHEMAS = Object.freeze({
  Query: { fields: {} },
  Create: { fields: createFields },
  /** `opaqueType`: an OPAQUE object's Opaque Data Type (KMIP's, an unsigned 32-bit number), required for it and refused for others. */
  /** `unwrapKey?`/`unwrapInstance?`: `material` is wrapped (RFC 5649) under that appliance AES key: a key import, dual-controlled (§6.5). */
  Register: { fields: { ...createFields, material: binary, opaqueType: { type: 'integer', optional: true, min: 0, max: 2 ** 32 - 1 }, unwrapKey: optionalName, unwrapInstance: optionalName, fresh: { type: 'boolean', optional: true } } },
  Get: keyRef,
  Locate: {
    fields: {
      pattern: optionalName,
      namespace: optionalName,
      algorithm: token,
      /** Custom attributes the key must have, each value a glob as `pattern` (`*` any run of characters). */
      attributes: customAttributes,
      /** Dates of the key's current instance, each an ISO 8601 date-time or a `from/to` range of two, ends included (domain/instance-date-ranges.ts checks the names). */
      dates: { type: 'stringMap', optional: true, maxEntries: 10, keyPattern: /^[a-zA-Z]{1,32}$/, maxLength: 2 * MAX_TOKEN_LENGTH + 1 },
      limit: { type: 'integer', optional: true, min: 1, max: MAX_LOCATE_LIMIT },
      offset: { type: 'integer', optional: true, min: 0, max: MAX_LOCATE_OFFSET },
    },
  },
  /** `digest`: also the SHA-256 of the instance's material (opened and zeroed inside the keychain; none for SECRET). */
  GetAttributes: { fields: { ...keyRef.fields, digest: { type: 'boolean', optional: true } }, atLeastOneOf: keyRef.atLeastOneOf },
  SetCustomAttributes: {
    fields: {
      ...keyRef.fields,
      set: customAttributes,
      remove: { type: 'string[]', optional: true, maxItems: MAX_CUSTOM_ATTRIBUTES, maxLength: MAX_ATTRIBUTE_NAME },
      /** The key's new description ('' removes it): KMIP's Description attribute, which Add / Modify / Delete / Set Attribute change. */
      description: { type: 'string', optional: true, maxLength: MAX_DESCRIPTION },
    },
    atLeastOneOf: keyRef.atLeastOneOf,
  },
  /** The key by `name`, or by `instance`, which must then be its current instance (KMIP rekeys a Unique Identifier). */
  ReKey: { fields: { ...keyRef.fields, material: optionalBinary, activateAt: token }, atLeastOneOf: keyRef.atLeastOneOf },
  Activate: keyRef,
  Revoke: {
    // `message`: why, in the revoker's words (KMIP's Revocation Message): kept in the Revoke's audit event, nowhere else.
    fields: { ...keyRef.fields, reason: { type: 'enum', values: REVOCATION_REASONS }, compromiseDate: token, message: { type: 'string', optional: true, minLength: 1, maxLength: MAX_REVOCATION_MESSAGE } },
    atLeastOneOf: keyRef.atLeastOneOf,
  },
  Destroy: keyRef,
  Encrypt: {
    fields: {
      ...keyRef.fields, plaintext: binary, aad: optionalBinary, mode: cipherMode, iv: ivBytes, tagLength: { type: 'integer', optional: true, min: 1, max: 64 }, initialCounter,
      /** Streamed AES-GCM (domain/gcm-streams.ts): `streamInit` starts one (answering `stream`), `stream` continues it, `streamFinal` with it ends it (answering `tag`). */
      streamInit: { type: 'boolean', optional: true },
      stream: { type: 'base64', optional: true, maxLength: base64Length(GCM_STREAM_CORRELATION_BYTES) },
      streamFinal: { type: 'boolean', optional: true },
    },
    atLeastOneOf: keyRef.atLeastOneOf,
  },
  Decrypt: {
    fields: { ...keyRef.fields, ciphertext: binary, aad: optionalBinary, mode: cipherMode, iv: ivBytes, tag: { type: 'base64', optional: true, maxLength: base64Length(MAX_TAG_BYTES) }, initialCounter },
    atLeastOneOf: keyRef.atLeastOneOf,
  },
  GenerateDataKey: { fields: { name, algorithm: { type: 'enum', optional: true, values: DATA_KEY_ALGORITHMS }, aad: optionalBinary } },
  DecryptDataKey: { fields: { name, wrapped: binary, aad: optionalBinary } },
  MAC: { fields: { ...keyRef.fields, data: binary, algorithm: macAlgorithm }, atLeastOneOf: keyRef.atLeastOneOf },
  MACVerify: { fields: { ...keyRef.fields, data: binary, mac: binary, algorithm: macAlgorithm }, atLeastOneOf: keyRef.atLeastOneOf },
  RandomBytes: { fields: { length: { type: 'integer', min: 1, max: MAX_RANDOM_BYTES } } },
  Batch: { fields: { items: { type: 'items', minItems: 1, maxItems: MAX_BATCH_ITEMS } } },
  ClientIssue: {
    fields: {
      name,
      role: { type: 'enum', values: CLIENT_ROLES },
      groups: { type: 'string[]', optional: true, maxItems: MAX_LIST_ITEMS, maxLength: MAX_NAME_LENGTH },
      publicKeyPem: { type: 'string', minLength: 1, maxLength: MAX_PEM_LENGTH },
      validityDays: { type: 'integer', optional: true, min: 1, max: MAX_VALIDITY_DAYS },
    },
  },
  ClientList: { fields: {} },
  ClientRevoke: { fields: { name } },
  ClientRenew: {
    fields: {
      name,
      publicKeyPem: { type: 'string', minLength: 1, maxLength: MAX_PEM_LENGTH },
      validityDays: { type: 'integer', optional: true, min: 1, max: MAX_VALIDITY_DAYS },
    },
  },
  ServerCertRenew: { fields: { validityDays: { type: 'integer', optional: true, min: 1, max: MAX_VALIDITY_DAYS } } },
  PolicyGrant: {
    fields: { client: optionalName, group: optionalName, pattern: name, permissions: { ...stringList, optional: false } },
    exactlyOneOf: [['client', 'group']],
  },
  PolicyRevoke: { fields: { id: { ...token, optional: false } } },
  PolicyList: { fields: { client: optionalName, group: optionalName } },
  PolicyCheck: { fields: { client: name, name } },
  SetRolloverPolicy: { fields: { name, rollover: { type: 'enum', values: ROLLOVER_MODES, optional: true }, cryptoperiod: token, protectPeriod: token, processPeriod: token } },
  RolloverDue: { fields: { at: token, within: token, limit: { type: 'integer', optional: true, min: 1, max: MAX_LOCATE_LIMIT } } },
  RolloverRun: { fields: { at: token } },
  DestroyCancel: keyRef,
  UndoRollover: { fields: { name } },
  AliasSet: { fields: { alias: name, name } },
  AliasRemove: { fields: { alias: name } },
  AliasList: { fields: {} },
  NamespaceList: { fields: {} },
  NamespaceRemove: { fields: { namespace: name } },
  AuditSearch: {
    fields: {
      from: token,
      to: token,
      identity: optionalName,
      key: optionalName,
      operation: token,
      result: token,
      type: token,
      fromSeq: { type: 'integer', optional: true, min: 1, max: Number.MAX_SAFE_INTEGER },
      limit: { type: 'integer', optional: true, min: 1, max: MAX_AUDIT_SEARCH_LIMIT },
    },
  },
  AuditVerify: { fields: {} },
  Report: { fields: { from: token, to: token } },
  UnsealStatus: { fields: {} },
  UnsealSubmit: { fields: { share: { type: 'string', optional: true, minLength: 1, maxLength: MAX_SHARE_TEXT_LENGTH } } },
  UnsealReset: { fields: { own: { type: 'boolean', optional: true } } },
  Seal: { fields: {} },
  MasterKeyStatus: { fields: {} },
  ClusterStatus: { fields: {} },
  MasterKeyRotate: { fields: { keepOld: { type: 'boolean', optional: true }, destroyOld: { type: 'boolean', optional: true } } },
  ApprovalList: {
    fields: {
      state: { type: 'enum', optional: true, values: APPROVAL_LIST_STATES },
      mine: { type: 'boolean', optional: true },
      limit: { type: 'integer', optional: true, min: 1, max: MAX_APPROVAL_LIST_LIMIT },
    },
  },
  ApprovalGet: { fields: { id: approvalId, mine: { type: 'boolean', optional: true } } },
  ApprovalApprove: { fields: { id: approvalId, digest: { type: 'string', minLength: 64, maxLength: 64 } } },
  ApprovalDeny: { fields: { id: approvalId, reason: { type: 'string', minLength: 1, maxLength: MAX_DENY_REASON_LENGTH } } },
  ApprovalCancel: { fields: { id: approvalId } },
  ApprovalCollect: { fields: { id: approvalId } },
  ApprovalQuorums: { fields: {} },
  ApprovalQuorumSet: { fields: { class: { type: 'enum', values: DUAL_CONTROL_CLASSES }, required: { type: 'integer', min: 1, max: MAX_QUORUM } } },
  Log: { fields: { message: { type: 'string', minLength: 1, maxLength: MAX_LOG_MESSAGE } } },
  /** A wrapped export (§6.5), dual-controlled (key-export): under `wrapKey?`/`wrapInstance?` (AES-KWP) or `wrapPublicKey` (RSA-OAEP-SHA256, an SPKI PEM). */
  Export: {
    fields: { ...keyRef.fields, wrapMethod: { type: 'enum', values: WRAP_METHODS }, wrapPublicKey: { type: 'string', optional: true, minLength: 1, maxLength: MAX_PEM_LENGTH }, wrapKey: optionalName, wrapInstance: optionalName },
    atLeastOneOf: keyRef.atLeastOneOf,
  },
  /** What the caller intends (domain/object-check.ts): `usage` names, `usageLimitCount` uses of the instance's usage limit, `leaseSeconds` of keeping served material. */
  Check: {
    fields: {
      ...keyRef.fields,
      usage: stringList,
      usageLimitCount: { type: 'integer', optional: true, min: 1, max: Number.MAX_SAFE_INTEGER },
      leaseSeconds: { type: 'integer', optional: true, min: 0, max: 2 ** 32 - 1 },
    },
    atLeastOneOf: keyRef.atLeastOneOf,
  },
  Interop: { fields: { function: { type: 'enum', values: INTEROP_FUNCTIONS }, identifier: { type: 'string', minLength: 1, maxLength: MAX_INTEROP_IDENTIFIER } } },
  BackupCreate: { fields: {} },
  /** What backup_dir holds, newest first (officers and auditors; docs/backup.md §2.1). */
  BackupList: { fields: {} },
  BackupRead: {
    fields: {
      name: { type: 'string', minLength: 1, maxLength: MAX_BACKUP_NAME_LENGTH },
      offset: { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER },
      length: { type: 'integer', min: 1, max: MAX_BACKUP_CHUNK_BYTES },
    },
  },
  /** Dual-controlled (backup-restore, docs/backup.md §5): `sha256` pins the file (the request's own verification fills it in); `signerKey`: the SPKI PEM of another appliance's signing key. */
  BackupRestore: {
    fields: {
      name: { type: 'string', minLength: 1, maxLength: MAX_BACKUP_NAME_LENGTH },
      allowOlder: { type: 'boolean', optional: true },
      signerKey: { type: 'string', optional: true, minLength: 1, maxLength: MAX_PEM_LENGTH },
      sha256: { type: 'string', optional: true, minLength: 64, maxLength: 64 },
    },
  },
  /** One chunk of a file an officer sends into backup_dir (docs/backup.md §5.2); `sha256` (the whole file's) with the chunk that ends it. */
  BackupUpload: {
    fields: {
      name: { type: 'string', minLength: 1, maxLength: MAX_BACKUP_NAME_LENGTH },
      offset: { type: 'integer', min: 0, max: MAX_BACKUP_UPLOAD_BYTES },
      totalBytes: { type: 'integer', min: 1, max: MAX_BACKUP_UPLOAD_BYTES },
      data: { type: 'base64', maxLength: base64Length(MAX_BACKUP_CHUNK_BYTES) },
      sha256: { type: 'string', optional: true, minLength: 64, maxLength: 64 },
      signerKey: { type: 'string', optional: true, minLength: 1, maxLength: MAX_PEM_LENGTH },
    },
  },
} as const satisfies Readonly<Record<OperationName, Schema>>);

export function isOperationName(value: unknown): value is OperationName {
  return typeof value === 'string' && (OPERATION_NAMES as readonly string[]).includes(value);
}

/** Operations a Batch item may name: neither Batch itself nor those refused inside one (UNBATCHED_OPERATIONS). */
export type BatchableOperationName = Exclude<OperationName, 'Batch' | (typeof UNBATCHED_OPERATIONS)[number]>;

/**
 * Every operation's arguments as `validateArgs` returns them, derived from
 * OP_SCHEMAS (schema-types.ts), so the two cannot drift: base64 fields are
 * Buffers, enums their literal unions, `name`/`instance` references need one
 * of the two. Batch's are its items, each decoded on its own.
 */
export type OperationArgs = { readonly [Op in OperationName]: Op extends 'Batch' ? BatchArgs : ArgsFromSchema<(typeof OP_SCHEMAS)[Op]> };

/** The typed arguments of one operation, e.g. `ArgsOf<'Get'>`. */
export type ArgsOf<Op extends OperationName> = OperationArgs[Op];

/** One operation with its typed arguments: a union over `Op` in which checking `op` narrows `args`. */
export type OperationCall<Op extends OperationName = OperationName> = { [K in Op]: { readonly op: K; readonly args: OperationArgs[K] } }[Op];

/** A decoded Batch item: the call to run, or the error that item alone answers (UNKNOWN_OPERATION, INVALID_REQUEST). */
export type BatchEntry = OperationCall<BatchableOperationName> | { readonly error: StrongroomError };

export type BatchArgs = { readonly items: readonly BatchEntry[] };

/**
 * Validates `args` for `op` and returns a new plain object typed for `op`:
 * only known fields, base64 fields decoded to Buffers (the caller wipes them
 * when done). For Batch, the items' shape is checked (`{op, args}`, 1..64
 * items; a bad shape fails the whole request), then each item is decoded on
 * its own (validateBatchItem): a bad item becomes that item's `error` entry.
 * Throws ProtocolError INVALID_REQUEST naming the field, never its value.
 * @example validateArgs('Encrypt', { name: 'crm/pii', plaintext: 'aGk=' }) // { name, plaintext: <Buffer 68 69> }
 */
export function validateArgs<Op extends OperationName>(op: Op, args: unknown): OperationArgs[Op];
// The one place validated values take their type: validateObject keeps exactly a schema's fields, with the
// types ArgsFromSchema derives from that schema (test/protocol/typed-args.test.ts holds the two together).
export function validateArgs(op: OperationName, args: unknown): unknown {
  const validated = validateObject(OP_SCHEMAS[op], args, 'args');
  if (op !== 'Batch') return validated;
  // validateItems (schema.ts) made it an array of `{op, args}` objects.
  const items = validated.items as readonly unknown[];
  return { items: items.map(decodeBatchEntry) } satisfies BatchArgs;
}

function decodeBatchEntry(item: unknown): BatchEntry {
  try {
    return validateBatchItem(item);
  } catch (err) {
    if (err instanceof StrongroomError) return { error: err };
    throw err;
  }
}

/**
 * Validates one Batch item on its own: UNKNOWN_OPERATION for an unknown op,
 * INVALID_REQUEST for a nested Batch, an operation refused inside a Batch,
 * a bad shape or bad args.
 */
export function validateBatchItem(item: unknown): OperationCall<BatchableOperationName> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid('a batch item must be an object', 'item', 'object');
  const keys = Object.keys(item);
  for (const key of keys) if (key !== 'op' && key !== 'args') throw invalid(`batch item has unknown field ${quoteName(key)}`, key);
  const op = Object.prototype.hasOwnProperty.call(item, 'op') ? (item as { op: unknown }).op : undefined;
  const args = Object.prototype.hasOwnProperty.call(item, 'args') ? (item as { args: unknown }).args : {};
  if (typeof op !== 'string') throw invalid('batch item op must be a string', 'op', 'string');
  if (!isOperationName(op)) throw new ProtocolError('UNKNOWN_OPERATION', 'unknown operation in batch item');
  if (op === 'Batch') throw invalid('Batch inside Batch is not allowed', 'op');
  if (!isBatchable(op)) throw invalid(`${op} cannot run inside a Batch; send it on its own`, 'op');
  return batchCall(op, validateArgs(op, args));
}

function isBatchable(op: Exclude<OperationName, 'Batch'>): op is BatchableOperationName {
  return !(UNBATCHED_OPERATIONS as readonly string[]).includes(op);
}

function batchCall<Op extends BatchableOperationName>(op: Op, args: OperationArgs[Op]): OperationCall<Op> {
  return { op, args };
}
