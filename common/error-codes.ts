/**
 * The one table of Strongroom error codes.
 *
 * Every error the appliance reports carries one of these stable string codes.
 * Callers (the CLI, the wire protocols, tests) branch on the code, never on the
 * message text. Each code names the CLI exit code it maps to; the wire
 * protocols add their own mappings (JSON sends the code as is, KMIP maps it to
 * a Result Reason) in later layers.
 */

/** Exit codes of the `strongroom` CLI; documented in docs/strongroom.1.md. */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  SEALED: 5,
  HSM: 6,
  INTEGRITY: 7,
  STORAGE: 8,
  CONFIG: 9,
  AUTH: 10,
  UNAVAILABLE: 11,
  /** Dual control: the request waits for officers' approvals (not a failure; see `strongroom approvals`). */
  APPROVAL_REQUIRED: 12,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CodeInfo {
  readonly exit: ExitCode;
  /**
   * The KMIP Result Reason (KMIP 2.1 §11.28) a failure with this code
   * answers over the KMIP wire; a 1.x reply uses kmipReasonFor's fallback
   * for reasons 1.x lacks.
   */
  readonly kmip: KmipResultReason;
  /** One line for docs and `--help`: what it means and what to do next. */
  readonly meaning: string;
}

export const ERROR_CODES = {
  INTERNAL_ERROR: { exit: EXIT.INTERNAL, kmip: 'GeneralFailure', meaning: 'An unexpected fault; the log has the details.' },
  INVALID_ARGUMENT: { exit: EXIT.USAGE, kmip: 'InvalidField', meaning: 'An argument is missing, malformed or out of range.' },
  CONFIG_INVALID: { exit: EXIT.CONFIG, kmip: 'GeneralFailure', meaning: 'The configuration file or an override is invalid.' },

  HSM_MODULE_NOT_FOUND: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The PKCS#11 module file could not be loaded; check hsm_module.' },
  HSM_TOKEN_NOT_FOUND: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'No token with the configured label; check hsm_token_label.' },
  HSM_PIN_INCORRECT: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The HSM refused the user PIN.' },
  HSM_PIN_LOCKED: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The token locked the user PIN after too many failures; the SO must reset it.' },
  HSM_PIN_MISSING: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'No PIN source is configured or the PIN file is empty.' },
  HSM_MASTER_KEY_MISSING: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The master key version the keychain needs is not in the token.' },
  HSM_MECHANISM_UNSUPPORTED: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The token lacks a mechanism Strongroom needs.' },
  HSM_SIGNING_KEY_MISSING: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The signing key is not in the token.' },
  HSM_ERROR: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'The HSM reported an error.' },
  MASTER_KEY_MISMATCH: { exit: EXIT.HSM, kmip: 'CryptographicFailure', meaning: 'The token\'s master key does not open this keychain: it belongs to another token.' },

  KEYCHAIN_NOT_INITIALIZED: { exit: EXIT.SEALED, kmip: 'GeneralFailure', meaning: 'No keychain here yet; run `strongroom init`.' },
  KEYCHAIN_ALREADY_INITIALIZED: { exit: EXIT.CONFLICT, kmip: 'GeneralFailure', meaning: 'A keychain already exists in this data folder.' },
  SEALED: { exit: EXIT.SEALED, kmip: 'GeneralFailure', meaning: 'The keychain is sealed and refused the request (nothing was queued): unseal it (`strongroom unseal`), then send the request again.' },

  KEY_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'ObjectNotFound', meaning: 'No key with that name.' },
  INSTANCE_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'ObjectNotFound', meaning: 'No key instance with that name.' },
  IDEMPOTENCY_KEY_REUSED: { exit: EXIT.CONFLICT, kmip: 'InvalidField', meaning: 'The idempotency key was used before by this client for another operation or other arguments (docs/protocol.md §3.5): nothing was done. Send a new key for a new write; a retry must repeat the first request exactly.' },
  KEY_EXISTS: { exit: EXIT.CONFLICT, kmip: 'ObjectAlreadyExists', meaning: 'A key with that name already exists in its namespace.' },
  WRONG_STATE: { exit: EXIT.CONFLICT, kmip: 'WrongKeyLifecycleState', meaning: 'The key or instance is not in a state that allows the operation.' },
  NO_MATERIAL: { exit: EXIT.CONFLICT, kmip: 'KeyValueNotPresent', meaning: 'The instance has no material (it was destroyed).' },
  SENSITIVE: { exit: EXIT.CONFLICT, kmip: 'Sensitive', meaning: 'The key was created sensitive: its material is never served in the clear (use it through the appliance).' },
  INVOCATION_LIMIT_REACHED: { exit: EXIT.CONFLICT, kmip: 'UsageLimitExceeded', meaning: "The key's current instance reached its AES-GCM invocation limit (gcm_invocation_limit; random IVs, NIST SP 800-38D §8.3): roll the key over." },
  USAGE_LIMIT_REACHED: { exit: EXIT.CONFLICT, kmip: 'PermissionDenied', meaning: "The operation would take the instance past the usage limit its creator set (KMIP Usage Limits: bytes of data or operations): the limit is fixed when the instance is made; nothing was spent. KMIP answers Permission Denied, as the OASIS CS-BC cases expect." },
  STREAM_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'InvalidField', meaning: 'No open streamed encryption has that correlation value: it ended with its final part, idled out, was dropped when the appliance sealed or restarted, or was never given. Start a new stream.' },
  STREAM_NOT_YOURS: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'The streamed encryption was started by another client: only the client that started a stream may continue it.' },
  STREAM_LIMIT_REACHED: { exit: EXIT.CONFLICT, kmip: 'GeneralFailure', meaning: 'The client (or the appliance) holds the most open streamed encryptions it may: finish one with its final part, or let it idle out.' },
  TAG_LENGTH_REFUSED: { exit: EXIT.USAGE, kmip: 'GeneralFailure', meaning: 'An AES-GCM or ChaCha20-Poly1305 tag length outside 12–16 bytes (NIST SP 800-38D allows no shorter tag for general use, and none is longer); KMIP answers General Failure, as the OASIS CS-BC cases expect.' },

  AUDIT_UNAVAILABLE: { exit: EXIT.STORAGE, kmip: 'GeneralFailure', meaning: 'The audit trail could not be written, so the request was refused (fail closed).' },
  INTEGRITY_FAILURE: { exit: EXIT.INTEGRITY, kmip: 'CryptographicFailure', meaning: 'Stored state failed authentication (sealed material, an authenticated row, the trust state or the audit trail): it was altered, swapped, rolled back or corrupted outside the appliance.' },

  STORAGE_ERROR: { exit: EXIT.STORAGE, kmip: 'GeneralFailure', meaning: 'The keychain database reported an error.' },
  STORAGE_FULL: { exit: EXIT.STORAGE, kmip: 'GeneralFailure', meaning: 'The disk holding the keychain is full; nothing was changed.' },
  STORAGE_BUSY: { exit: EXIT.STORAGE, kmip: 'GeneralFailure', meaning: 'Another process holds the keychain\'s write lock.' },
  STORAGE_SCHEMA_TOO_NEW: { exit: EXIT.STORAGE, kmip: 'GeneralFailure', meaning: 'The keychain was written by a newer Strongroom; upgrade first.' },
  STORAGE_CORRUPT: { exit: EXIT.STORAGE, kmip: 'GeneralFailure', meaning: 'The keychain database file is damaged.' },
  CLUSTER_NO_PRIMARY: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'No PostgreSQL node of the cluster answered as the writable primary (Patroni REST /primary, then SHOW transaction_read_only) within the failover bound: it is failing over or lost its quorum; retry, and check `patronictl list`.' },
  STORAGE_UNAVAILABLE: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'The PostgreSQL server did not answer within the bound or its connection was lost: the call was not done (a transaction open on that connection was rolled back by the server); retry, the next call reconnects (to the new primary in a cluster).' },
  STORAGE_COMMIT_UNKNOWN: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'The connection to PostgreSQL was lost while a COMMIT was in flight: the transaction may or may not have committed. Read the state again before retrying; never report it as done.' },
  CLUSTER_NOT_PRIMARY: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'The PostgreSQL node answered that it is no longer the writable primary (read-only, or shutting down for a failover): the call was not done; retry, the next call finds the new primary.' },
  NOT_ON_SQLITE: { exit: EXIT.CONFLICT, kmip: 'OperationNotSupported', meaning: 'The command makes this appliance a node of a cluster, and a cluster keeps its keychain in PostgreSQL: this appliance keeps it in a SQLite file (storage = sqlite), which one appliance owns; nothing was done. Set storage = postgres and its settings (docs/cluster/one-appliance.md), then run it again.' },
  NOT_ON_POSTGRES: { exit: EXIT.CONFLICT, kmip: 'OperationNotSupported', meaning: "The operation works on a SQLite keychain file only, and this appliance keeps its keychain in PostgreSQL (storage = postgres): a cluster's backups and restores are PostgreSQL's own (pg_basebackup, the WAL archive), and local read-only commands go through the server (--server); nothing was done." },

  FRAME_EMPTY: { exit: EXIT.USAGE, kmip: 'InvalidMessage', meaning: 'A frame declared a length of zero.' },
  FRAME_TOO_LARGE: { exit: EXIT.USAGE, kmip: 'InvalidMessage', meaning: 'A frame is longer than the server accepts (see Query limits); the connection is closed.' },
  MALFORMED_REQUEST: { exit: EXIT.USAGE, kmip: 'InvalidMessage', meaning: 'The frame is not UTF-8 JSON within the depth and element limits.' },
  INVALID_REQUEST: { exit: EXIT.USAGE, kmip: 'InvalidField', meaning: 'The request envelope or an argument has the wrong shape or type.' },
  KMIP_INVALID_MESSAGE: { exit: EXIT.USAGE, kmip: 'InvalidMessage', meaning: 'A KMIP message (TTLV, XML or JSON) breaks an encoding rule; details.reason names which (docs/kmip.md §1–2). The server answers Invalid Message or closes the connection.' },
  UNKNOWN_OPERATION: { exit: EXIT.USAGE, kmip: 'OperationNotSupported', meaning: 'The server has no operation of that name.' },
  UNAUTHENTICATED: { exit: EXIT.AUTH, kmip: 'AuthenticationNotSuccessful', meaning: 'No valid client certificate from the appliance CA, or it is revoked or expired.' },
  PERMISSION_DENIED: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'The client has no grant for this operation on this key.' },
  CLEAR_IMPORT_DISABLED: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'Register of clear AES, HMAC or CHACHA20 material is off here (clear_key_import = off); nothing was stored. Import the key wrapped under an appliance AES key (--unwrap-key), or have the operator set clear_key_import = dual-control for a key ceremony.' },
  CALLER_MATERIAL_REFUSED: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'The appliance generates material for this algorithm: no caller may supply it (Register or ReKey with material is for SECRET keys only); use Create, or ReKey without material.' },
  RATE_LIMITED: { exit: EXIT.UNAVAILABLE, kmip: 'ServerLimitExceeded', meaning: 'The client exceeded its request rate; retry after the delay given.' },
  SERVER_BUSY: { exit: EXIT.UNAVAILABLE, kmip: 'ServerLimitExceeded', meaning: 'The server is at its connection limit or shutting down; retry later.' },
  UNAVAILABLE: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'The server could not be reached or the connection was lost.' },
  TIMEOUT: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'No response within the client timeout.' },
  CLIENT_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'ItemNotFound', meaning: 'No client with that name.' },
  CLIENT_EXISTS: { exit: EXIT.CONFLICT, kmip: 'ObjectAlreadyExists', meaning: 'A client with that name already exists.' },
  ALIAS_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'ItemNotFound', meaning: 'No alias with that name.' },
  GRANT_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'ItemNotFound', meaning: 'No grant with that id.' },
  OUT_FILE_REFUSED: { exit: EXIT.CONFLICT, kmip: 'GeneralFailure', meaning: 'The --out path is a symbolic link, not a regular file, or a file with other hard links: nothing was written and its target is untouched; give a plain file path.' },
  GRANT_SUBJECT_UNKNOWN: { exit: EXIT.NOT_FOUND, kmip: 'ItemNotFound', meaning: 'A grant that gives key material (get, decrypt, decrypt-data-key) names a client that does not exist; issue the client first (its issue is then dual-controlled), or grant to a group.' },
  USAGE_NOT_PERMITTED: { exit: EXIT.CONFLICT, kmip: 'IncompatibleCryptographicUsageMask', meaning: "The key's usage mask does not allow this operation." },
  UNSEAL_SHARES_REQUIRED: { exit: EXIT.SEALED, kmip: 'GeneralFailure', meaning: 'This keychain unseals only with custodian shares and the HSM: start `strongroom serve` and have custodians run `strongroom unseal`.' },
  UNSEAL_SHARES_INVALID: { exit: EXIT.INTEGRITY, kmip: 'CryptographicFailure', meaning: 'The submitted shares do not open the keychain (a share is wrong or of another set); progress was reset: every custodian submits again.' },
  UNSEAL_SHARE_DUPLICATE: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: 'That share (or a share of that custodian) was already submitted in this attempt; the next custodian submits theirs.' },
  MASTER_KEY_ROTATION_FAILED: { exit: EXIT.HSM, kmip: 'GeneralFailure', meaning: 'Master-key rotation stopped before its commit and changed nothing the keychain uses; fix the cause (see details) and run it again.' },
  APPROVAL_REQUIRED: { exit: EXIT.APPROVAL_REQUIRED, kmip: 'PermissionDenied', meaning: 'Dual control: the operation was stored as an approval request; other officers run `strongroom approvals approve <id> --digest <digest>`.' },
  APPROVAL_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'InvalidAsynchronousCorrelationValue', meaning: 'No approval request with that id; `strongroom approvals list` shows them.' },
  APPROVAL_EXPIRED: { exit: EXIT.CONFLICT, kmip: 'OperationCanceledByRequester', meaning: 'The approval request expired before its quorum; make the request again.' },
  APPROVAL_DIGEST_MISMATCH: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: 'The digest given is not the request\'s: read it again with `strongroom approvals show <id>` and approve what it shows.' },
  APPROVAL_SELF_APPROVAL: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'The requester cannot approve their own request; another officer must.' },
  APPROVAL_ALREADY_VOTED: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: 'This officer already approved this request; a different officer must give the next approval.' },
  APPROVAL_NOT_PENDING: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: 'The request was already carried out, denied, cancelled or expired; `strongroom approvals show <id>` says which.' },
  APPROVAL_OWN_RIGHTS: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'An officer cannot approve a change to their own rights (a grant to them or their group, their revocation); another officer must.' },
  APPROVAL_NOT_REQUESTER: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'Only the officer who made the request can cancel it or collect its result; others may deny it.' },
  APPROVAL_TARGET_CHANGED: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: 'The key or instance the approved request named no longer resolves to the one approved (an alias was re-pointed, the key replaced), or the backup file an approved restore named is not the one approved (its SHA-256 differs): nothing was run; make the request again.' },
  APPROVAL_LIMIT_REACHED: { exit: EXIT.CONFLICT, kmip: 'ServerLimitExceeded', meaning: 'The requester has max_pending_approvals_per_requester requests pending; cancel one or wait for them.' },
  DUAL_CONTROL_LOCAL_MODE: { exit: EXIT.AUTH, kmip: 'PermissionDenied', meaning: 'Dual-controlled operations are refused in local mode; run the command with --server and an officer certificate.' },
  SUBSCRIBER_TOO_SLOW: { exit: EXIT.UNAVAILABLE, kmip: 'GeneralFailure', meaning: 'The event stream dropped this subscriber: it did not read fast enough (event_buffer_bytes); reconnect, read promptly, or filter more narrowly.' },
  UNSEAL_SHARE_INVALID: { exit: EXIT.INTEGRITY, kmip: 'CryptographicFailure', meaning: 'That share is not the one made for its custodian number at init (a forgery, or a share of another keychain); it was not counted and nobody\'s progress was lost: submit the genuine share.' },
  BACKUP_MALFORMED: { exit: EXIT.INTEGRITY, kmip: 'GeneralFailure', meaning: 'The file is not a Strongroom backup, or one of a format version this appliance does not read: nothing was trusted from it.' },
  BACKUP_TRUNCATED: { exit: EXIT.INTEGRITY, kmip: 'GeneralFailure', meaning: 'The backup file ends before what its header or signed manifest declares (a copy cut short): use a complete copy.' },
  BACKUP_TAMPERED: { exit: EXIT.INTEGRITY, kmip: 'CryptographicFailure', meaning: 'The backup fails its signature, or its snapshot does not match the signed manifest (hash, counts, audit head): it was altered after it was made; do not restore it.' },
  BACKUP_FOREIGN_SIGNER: { exit: EXIT.INTEGRITY, kmip: 'CryptographicFailure', meaning: "The backup was signed by a key other than this appliance's HSM signing key (another appliance's backup, or a forgery): it is not trusted here." },
  BACKUP_OLDER_THAN_CURRENT: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: "The backup is older than this keychain's signed state (its trust counter is below the HSM token's freshness anchor, or its audit head below the newest signed checkpoint): restoring it would roll the keychain back; do so only on purpose (restore --older, itself approved and audited)." },
  BACKUP_SHARES_MISMATCH: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: "The backup's keychain is bound to custodian shares this appliance's unsealed keychain does not hold (another keychain, or shares made again since the backup): it cannot be opened here, and restoring it would leave a keychain the current custodians cannot unseal; nothing was stored." },
  BACKUP_NOT_FOUND: { exit: EXIT.NOT_FOUND, kmip: 'ItemNotFound', meaning: 'No backup of that name in the server\'s backup_dir; BackupCreate answers the name.' },
  UNSEAL_CLIENT_ALREADY_SUBMITTED: { exit: EXIT.CONFLICT, kmip: 'IllegalOperation', meaning: 'This certificate already submitted a share in the pending attempt: each share of one attempt comes from a different custodian\'s certificate.' },
  WRAPPING_KEY_REFUSED: { exit: EXIT.USAGE, kmip: 'InvalidField', meaning: 'The wrapping key given for a wrapped export cannot be used: the RSA public key is not a SubjectPublicKeyInfo PEM of an RSA key of 2048 to 16384 bits, or the material is too long for RSA-OAEP under it (wrap it under an AES key instead).' },
  UNWRAP_FAILED: { exit: EXIT.INTEGRITY, kmip: 'CryptographicFailure', meaning: 'The wrapped material did not unwrap under the named AES key (the RFC 5649 integrity check failed): it was wrapped under another key, or altered on the way; nothing was stored.' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The KMIP Result Reasons the table uses (a subset of the enumeration; names as the KMIP XML encoding spells them). */
export type KmipResultReason =
  | 'ItemNotFound' | 'ObjectNotFound' | 'AuthenticationNotSuccessful' | 'InvalidMessage' | 'OperationNotSupported' | 'InvalidField'
  | 'OperationCanceledByRequester' | 'CryptographicFailure' | 'IllegalOperation' | 'PermissionDenied' | 'KeyValueNotPresent'
  | 'ObjectAlreadyExists' | 'UsageLimitExceeded' | 'IncompatibleCryptographicUsageMask' | 'InvalidAsynchronousCorrelationValue'
  | 'ServerLimitExceeded' | 'WrongKeyLifecycleState' | 'Sensitive' | 'GeneralFailure';

/**
 * What 1.x answers for the reasons only 2.x defines (KMIP 1.4 §9.1.3.2.29
 * ends at Object Already Exists, then General Failure).
 */
const KMIP_1_FALLBACK: Readonly<Partial<Record<KmipResultReason, KmipResultReason>>> = {
  UsageLimitExceeded: 'IllegalOperation',
  IncompatibleCryptographicUsageMask: 'PermissionDenied',
  InvalidAsynchronousCorrelationValue: 'ItemNotFound',
  // 2.x names a managed object that is not there apart from other items (OASIS BL-M-4-21).
  ObjectNotFound: 'ItemNotFound',
  ServerLimitExceeded: 'GeneralFailure',
  WrongKeyLifecycleState: 'IllegalOperation',
};

/** The KMIP Result Reason for `code`, in a reply of KMIP major version `major`. */
export function kmipReasonFor(code: ErrorCode, major: number): KmipResultReason {
  return kmipReasonIn(ERROR_CODES[code].kmip, major);
}

/** A Result Reason as a reply of KMIP major version `major` can say it: 1.x gets the nearest reason it defines. */
export function kmipReasonIn(reason: KmipResultReason, major: number): KmipResultReason {
  return major >= 2 ? reason : (KMIP_1_FALLBACK[reason] ?? reason);
}

export function exitCodeFor(code: ErrorCode): ExitCode {
  return ERROR_CODES[code].exit;
}
