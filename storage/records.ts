/**
 * The rows the keychain store keeps. The store is untrusted: it only ever sees
 * sealed material (`sealedMaterial`, `wrapped`) and metadata. Dates are ISO
 * 8601 strings in UTC, set by the domain from its injected clock: the store
 * never reads a clock.
 */

/** One row per keychain: who made it and on which token. */
export interface KeychainMetaRecord {
  readonly keychainId: string;
  readonly createdAt: string;
  readonly tokenLabel: string;
  readonly tokenSerial: string;
}

/** A version of the keychain key, wrapped by an HSM master key version. */
export interface WrappedKeychainKeyRecord {
  readonly version: number;
  readonly masterKeyVersion: number;
  readonly mechanism: string;
  readonly wrapped: Buffer;
  readonly createdAt: string;
}

export type RolloverPolicyKind = 'auto' | 'manual' | 'none';

export interface KeyRecord {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly algorithm: string;
  readonly usageMask: number;
  readonly description: string;
  readonly owner: string;
  /** Caller-defined attributes, string to string. */
  readonly customAttributes: Readonly<Record<string, string>>;
  readonly rolloverPolicy: RolloverPolicyKind;
  /** ISO 8601 duration (e.g. `P90D`) when rolloverPolicy is `auto`, else null. */
  readonly cryptoperiod: string | null;
  readonly currentInstanceId: string;
  /** When the scheduler rolls this key over next (ISO UTC); null unless the policy is `auto`. */
  readonly nextRolloverAt: string | null;
  /** SP 800-57 originator usage period of each instance (ISO 8601 duration), or null: no protect-stop. */
  readonly protectPeriod: string | null;
  /** SP 800-57 recipient usage period of each instance (ISO 8601 duration), or null: no process-stop. */
  readonly processPeriod: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * What the appliance read from a kept object's material at Register
   * (domain/stored-objects.ts), as canonical JSON text; null for every other
   * key. Written once, with the row; in the row MAC when present.
   */
  readonly facts: string | null;
  /**
   * KMIP Sensitive, set at creation (KeySpec.sensitive): no instance's
   * material is served in the clear. Rows stored before the column existed
   * read false, which is what the appliance did for them. In the row MAC
   * when true.
   */
  readonly sensitive: boolean;
  /** HMAC over the row's fields, made and checked by the domain (domain/row-mac.ts). */
  readonly rowMac: Buffer;
}

export interface InstanceRecord {
  readonly id: string;
  readonly keyId: string;
  /** Random, unique, URL-safe; how callers name an older instance. */
  readonly name: string;
  /** 1, 2, 3… within its key. */
  readonly version: number;
  readonly state: string;
  /** iv || ciphertext || tag, or null once destroyed. */
  readonly sealedMaterial: Buffer | null;
  /** The keychain key version that sealed the material. */
  readonly sealVersion: number;
  readonly createdAt: string;
  /**
   * When the instance became Active; for a PreActive instance, its
   * activation date (KMIP's Activation Date: when the sweep activates it),
   * or null when it waits for an explicit Activate.
   */
  readonly activatedAt: string | null;
  readonly deactivatedAt: string | null;
  readonly destroyedAt: string | null;
  /** When a scheduled destruction takes effect (ISO UTC); null when none is pending. */
  readonly destroyAt: string | null;
  /** End of originator use (ISO UTC): from then the instance never encrypts. Null: none. */
  readonly protectStopAt: string | null;
  /** End of recipient use (ISO UTC): from then the instance is Deactivated. Null: none. */
  readonly processStopAt: string | null;
  /**
   * Start of recipient use (ISO UTC), when given at creation
   * (domain/usage-dates.ts): before it the instance never decrypts or
   * verifies. Null: none (rows made before schema v16 have none).
   */
  readonly processStartAt: string | null;
  /**
   * Where the material came from: drawn here by the appliance's DRBG, or
   * given by a caller (Register: a dual-controlled key import, or SECRET
   * material; a rollover with the caller's material). Rows stored before the
   * column existed read 'generated', which was true of every non-SECRET one
   * (Register of generated algorithms was refused then); SECRET material is
   * never ours whatever the row says (domain/keys/material-facts.ts).
   */
  readonly origin: MaterialOrigin;
  /**
   * The reason Revoke gave (a KMIP Revocation Reason Code in the protocol's
   * spelling: op-schemas REVOCATION_REASONS); null when never revoked, or
   * revoked before the column existed.
   */
  readonly revocationReason: string | null;
  /**
   * When Revoke marked it compromised (KMIP Compromise Date); null when not
   * compromised, or compromised before the column existed.
   */
  readonly compromisedAt: string | null;
  /**
   * When the compromise occurred, as Revoke was told (else when it was
   * revoked): KMIP Compromise Occurrence Date. Kept apart from deactivatedAt,
   * which Revoke also sets to it for an instance not yet destroyed, because
   * a Destroyed instance found compromised keeps its deactivation date.
   */
  readonly compromiseOccurredAt: string | null;
  /**
   * KMIP Fresh: true until the instance's material was first served to a
   * client (a Get that returned it); set at creation (true unless the
   * registering client said otherwise) and turned false once, by that Get.
   * Rows stored before the column existed read false: whether their
   * material was served then is not known, and false is the safe claim.
   */
  readonly fresh: boolean;
  /** HMAC over the row's fields, made and checked by the domain (domain/row-mac.ts). */
  readonly rowMac: Buffer;
}

export type MaterialOrigin = 'generated' | 'imported';

/** What a key's rollover policy change writes (the whole row MAC is recomputed by the domain). */
export interface KeyPolicyUpdate {
  readonly keyId: string;
  readonly rolloverPolicy: RolloverPolicyKind;
  readonly cryptoperiod: string | null;
  readonly nextRolloverAt: string | null;
  readonly protectPeriod: string | null;
  readonly processPeriod: string | null;
  readonly updatedAt: string;
  readonly rowMac: Buffer;
}

/** A key's new custom attributes (SetCustomAttributes): the whole set, replacing the old one. */
export interface KeyAttributesUpdate {
  readonly keyId: string;
  readonly customAttributes: Readonly<Record<string, string>>;
  readonly description: string;
  readonly updatedAt: string;
  readonly rowMac: Buffer;
}

export interface NamespaceSummary {
  readonly namespace: string;
  readonly keys: number;
  /** Keys with at least one instance not Destroyed / DestroyedCompromised. */
  readonly liveKeys: number;
}

/** An alias: another full name for a key. Moving it is an update of keyId. */
export interface AliasRecord {
  /** Canonical full name, `namespace/name`; never the name of a key. */
  readonly alias: string;
  readonly keyId: string;
  readonly updatedAt: string;
  /** HMAC over the row (domain/row-mac.ts): a moved alias fails to verify. */
  readonly rowMac: Buffer;
}

/** An Active instance whose recipient usage period has ended. */
export interface DueProcessStop {
  readonly instanceId: string;
  readonly processStopAt: string;
}

/** A PreActive instance whose activation date has come. */
export interface DueActivation {
  readonly instanceId: string;
  readonly activateAt: string;
}

/** An instance whose scheduled destruction is due. */
export interface DueDestruction {
  readonly instanceId: string;
  readonly destroyAt: string;
}

/** A key the rollover scheduler should look at. */
export interface DueKey {
  readonly keyId: string;
  readonly nextRolloverAt: string;
}

export interface KeyFilter {
  /** Exact namespace. */
  readonly namespace?: string;
  /** SQL-LIKE-free glob on the full name `namespace/name`: `*` matches any run of characters. */
  readonly namePattern?: string;
  readonly algorithm?: string;
  /**
   * Custom attributes the key must have, each value matched as namePattern
   * is (a glob: `*` matches any run of characters, nothing else is special).
   */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly limit?: number;
  readonly offset?: number;
}

export interface InstanceStateChange {
  readonly instanceId: string;
  readonly state: string;
  readonly activatedAt?: string | null;
  readonly deactivatedAt?: string | null;
  readonly destroyedAt?: string | null;
  readonly destroyAt?: string | null;
  readonly protectStopAt?: string | null;
  readonly processStopAt?: string | null;
  readonly revocationReason?: string | null;
  readonly compromisedAt?: string | null;
  readonly compromiseOccurredAt?: string | null;
  /** KMIP Fresh: only ever set to false (the first Get that serves the material). */
  readonly fresh?: boolean;
  /** When true the sealed material is removed (set to NULL; with secure_delete the page is overwritten). */
  readonly dropMaterial?: boolean;
  /** The row MAC of the instance as it is after the change (see applyInstanceChange). */
  readonly rowMac: Buffer;
}

/** What the current-instance pointer move of addCurrentInstance writes to the key row. */
export interface KeyPointerUpdate {
  readonly updatedAt: string;
  /** The key's next scheduled rollover after the move; undefined leaves it as it is. */
  readonly nextRolloverAt?: string | null;
  /** The row MAC of the key as it is after the move. */
  readonly rowMac: Buffer;
}

/** The instance row after `change`: fields absent from the change keep their value. Both stores and the domain use this one rule. */
export function applyInstanceChange(old: InstanceRecord, change: InstanceStateChange): InstanceRecord {
  const pick = <V>(v: V | undefined, prev: V): V => (v === undefined ? prev : v);
  return {
    ...old,
    state: change.state,
    activatedAt: pick(change.activatedAt, old.activatedAt),
    deactivatedAt: pick(change.deactivatedAt, old.deactivatedAt),
    destroyedAt: pick(change.destroyedAt, old.destroyedAt),
    destroyAt: pick(change.destroyAt, old.destroyAt),
    protectStopAt: pick(change.protectStopAt, old.protectStopAt),
    processStopAt: pick(change.processStopAt, old.processStopAt),
    revocationReason: pick(change.revocationReason, old.revocationReason),
    compromisedAt: pick(change.compromisedAt, old.compromisedAt),
    compromiseOccurredAt: pick(change.compromiseOccurredAt, old.compromiseOccurredAt),
    fresh: pick(change.fresh, old.fresh),
    sealedMaterial: change.dropMaterial === true ? null : old.sealedMaterial,
    rowMac: change.rowMac,
  };
}

/**
 * How the keychain unseals (one row, written at init; absent: the HSM alone).
 * `shares`/`threshold` are what custodians need; they are also bound into the
 * AES-GCM AAD of each share-bound keychain key (domain/share-binding.ts), so
 * an altered row makes unseal fail rather than mislead.
 */
export interface UnsealPolicyRecord {
  /** 'hsm+shares': the keychain key needs the HSM and `threshold` of `shares` custodian shares. */
  readonly binding: 'hsm+shares';
  readonly shares: number;
  readonly threshold: number;
  readonly createdAt: string;
}

/**
 * A secret the HSM alone can open (the server's TLS identity, which a sealed
 * server needs to listen): AES-256-GCM under a one-off data key that is
 * stored wrapped by an HSM master key version, like a keychain key.
 */
export interface HsmSealedSecretRecord {
  readonly name: string;
  readonly masterKeyVersion: number;
  readonly mechanism: string;
  readonly wrappedKey: Buffer;
  /** iv || ciphertext || tag under the data key; AAD binds keychain id and name. */
  readonly sealed: Buffer;
  readonly createdAt: string;
}
