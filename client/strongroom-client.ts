/**
 * The Strongroom client (docs/protocol.md): a pool of mutually authenticated
 * TLS connections speaking the native protocol, `request()` for any
 * operation, a typed method per operation of §6, and an optional in-memory
 * key lease for get(). Errors are StrongroomClientError with a string `code`.
 *
 * @example
 *   const client = new StrongroomClient({ host: 'vault.lan', port: 5700, ca, cert, key });
 *   const { ciphertext } = await client.encrypt({ name: 'crm/pii', plaintext: Buffer.from('hi') });
 *   await client.close();
 */
import { randomUUID } from 'node:crypto';
import { isOperationName, OperationName } from '../protocol/op-schemas';
import { isReplayable } from '../protocol/idempotency-key';
import { base64Field, binaryToBase64, stringField } from './binary';
import { invalidArgument, StrongroomClientError } from './client-error';
import { KeyCache } from './key-cache';
import { resolveOptions, ResolvedOptions, StrongroomClientOptions } from './options';
import { Pool } from './pool';
import * as T from './types';

/** Room left in a frame for the `"id":N,` the connection adds. */
const ID_OVERHEAD_BYTES = 32;
/** How often expired cache entries are zeroed even when get() is not called. */
export const CACHE_SWEEP_INTERVAL_MS = 1_000;
/** Test hook: `client[KEY_CACHE]` is the client's KeyCache (or null). Not part of the API. */
export const KEY_CACHE: unique symbol = Symbol('strongroom.client.keyCache');

type Args = Readonly<Record<string, unknown>>;

export class StrongroomClient {
  private readonly options: ResolvedOptions;
  private readonly pool: Pool;
  private readonly cache: KeyCache | null;
  private readonly sweeper: NodeJS.Timeout | null;

  constructor(options: StrongroomClientOptions) {
    this.options = resolveOptions(options);
    this.pool = new Pool(this.options);
    this.cache = this.options.cache === null ? null : new KeyCache(this.options.cache, this.options.clock);
    this.sweeper = this.cache === null ? null : setInterval(() => this.cache?.sweep(), CACHE_SWEEP_INTERVAL_MS).unref();
  }

  get [KEY_CACHE](): KeyCache | null {
    return this.cache;
  }

  /** Connections ever opened by this client (diagnostics). */
  get connectionsOpened(): number {
    return this.pool.connectionsOpened;
  }

  /**
   * Sends one request and resolves with its `result`. Buffers anywhere in
   * `args` are sent as base64; the result is returned as the server sent it.
   * Rejects with StrongroomClientError: the server's code, or UNAVAILABLE,
   * TIMEOUT, FRAME_TOO_LARGE (request bigger than maxFrameBytes, not sent),
   * INVALID_ARGUMENT (unknown op). `call.idempotencyKey` sends the
   * caller's own key (docs/protocol.md §3.5); with retryWrites, a write
   * gets a random one when none is given, and is sent once more on a new
   * connection if its connection died after sending it.
   */
  async request<R = unknown>(op: OperationName, args: Args = {}, meta?: T.RequestMeta, call: T.WriteOptions = {}): Promise<R> {
    if (!isOperationName(op)) throw invalidArgument('unknown operation', 'op');
    const idempotencyKey = call.idempotencyKey ?? (this.options.retryWrites && isReplayable(op) ? randomUUID() : undefined);
    const body = JSON.stringify({ op, args: binaryToBase64(args), meta, idempotencyKey });
    const length = Buffer.byteLength(body, 'utf8') + ID_OVERHEAD_BYTES;
    if (length > this.options.maxFrameBytes) {
      throw new StrongroomClientError('FRAME_TOO_LARGE', 'the request is larger than the frame limit', { details: { length, limit: this.options.maxFrameBytes } });
    }
    // Sent again only under a key: the appliance then answers a write that committed from its record instead of running it twice.
    return (await this.pool.request(body, this.options.retryWrites && idempotencyKey !== undefined)) as R;
  }

  query(meta?: T.RequestMeta): Promise<T.QueryResult> {
    return this.request('Query', {}, meta);
  }

  create(args: T.CreateArgs, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<T.KeyWithInstances> {
    return this.request('Create', { ...args }, meta, call);
  }

  /**
   * A SECRET registers at once. Material of an algorithm the appliance
   * generates (AES, HMAC, CHACHA20) is a key import: it rejects with
   * APPROVAL_REQUIRED (class key-import; `details.requestId`), and the key
   * exists once other officers approved, after comparing its key check value.
   */
  register(args: T.RegisterArgs, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<T.KeyWithInstances> {
    return this.request('Register', { ...args }, meta, call);
  }

  /** The key's material (a Buffer the caller owns and zeroes). With a cache, answered from the lease when it can be. */
  get(ref: T.KeyRef, meta?: T.RequestMeta): Promise<T.RetrievedKey> {
    const fetch = async (): Promise<T.RetrievedKey> => {
      const result = await this.request<T.RetrievedKey>('Get', { ...ref }, meta);
      return { key: result.key, instance: result.instance, material: base64Field(result, 'material') };
    };
    return this.cache === null ? fetch() : this.cache.get(ref, fetch);
  }

  locate(args: T.LocateArgs = {}, meta?: T.RequestMeta): Promise<{ keys: T.KeyView[] }> {
    return this.request('Locate', { ...args }, meta);
  }

  /**
   * `instance` (alone or with `name`) picks the instance answered as
   * `instance`; without it, the current one. `digest: true` also answers the
   * SHA-256 of its material (null: none, for SECRET or once destroyed).
   */
  getAttributes(
    args: T.KeyRef & { digest?: boolean },
    meta?: T.RequestMeta,
  ): Promise<T.KeyWithInstances & { instance: T.InstanceView; material: T.MaterialFacts; digest?: T.MaterialDigest | null }> {
    return this.request('GetAttributes', { ...args }, meta);
  }

  /** Sets (adds or replaces) and removes a key's custom attributes. */
  setCustomAttributes(args: T.KeyRef & { set?: Record<string, string>; remove?: string[] }, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<T.KeyWithInstances> {
    return this.request('SetCustomAttributes', { ...args }, meta, call);
  }

  /** `activateAt` (a future ISO 8601 date-time): the new instance waits, PreActive, and becomes current then. */
  rekey(args: { name: string; material?: Buffer; activateAt?: string }, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<T.KeyWithInstances> {
    return this.request('ReKey', { ...args }, meta, call);
  }

  activate(ref: T.KeyRef, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<{ instance: T.InstanceView }> {
    return this.request('Activate', { ...ref }, meta, call);
  }

  revoke(args: T.RevokeArgs, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<{ instance: T.InstanceView }> {
    return this.request('Revoke', { ...args }, meta, call);
  }

  /** The Destroy operation (destroys key material on the server). Not to be confused with destroy(), which tears down this client. */
  destroyKey(ref: T.KeyRef, meta?: T.RequestMeta): Promise<{ instance: T.InstanceView }> {
    return this.request('Destroy', { ...ref }, meta);
  }

  async encrypt(args: T.EncryptArgs, meta?: T.RequestMeta): Promise<T.CiphertextResult> {
    const result = await this.request('Encrypt', { ...args }, meta);
    return { ciphertext: base64Field(result, 'ciphertext'), instance: stringField(result, 'instance'), key: stringField(result, 'key') };
  }

  async decrypt(args: T.DecryptArgs, meta?: T.RequestMeta): Promise<T.PlaintextResult> {
    const result = await this.request('Decrypt', { ...args }, meta);
    return { plaintext: base64Field(result, 'plaintext'), instance: stringField(result, 'instance') };
  }

  async generateDataKey(args: T.GenerateDataKeyArgs, meta?: T.RequestMeta): Promise<T.DataKeyResult> {
    const result = await this.request('GenerateDataKey', { ...args }, meta);
    const wrapped = base64Field(result, 'wrapped');
    return { plaintext: base64Field(result, 'plaintext'), wrapped, instance: stringField(result, 'instance') };
  }

  async decryptDataKey(args: T.DecryptDataKeyArgs, meta?: T.RequestMeta): Promise<T.PlaintextResult> {
    const result = await this.request('DecryptDataKey', { ...args }, meta);
    return { plaintext: base64Field(result, 'plaintext'), instance: stringField(result, 'instance') };
  }

  async mac(args: T.MacArgs, meta?: T.RequestMeta): Promise<T.MacResult> {
    const result = await this.request('MAC', { ...args }, meta);
    return { mac: base64Field(result, 'mac'), instance: stringField(result, 'instance') };
  }

  async macVerify(args: T.MacVerifyArgs, meta?: T.RequestMeta): Promise<{ valid: boolean }> {
    const result = await this.request<{ valid: unknown }>('MACVerify', { ...args }, meta);
    if (typeof result?.valid !== 'boolean') throw new StrongroomClientError('MALFORMED_RESPONSE', "the server's result has no boolean field valid", { details: { field: 'valid' } });
    return { valid: result.valid };
  }

  /** One Batch request (§4); each item succeeds or fails on its own. Item results are as the server sent them (binary as base64). */
  batch(items: readonly T.BatchItem[], meta?: T.RequestMeta): Promise<{ items: T.BatchItemResult[] }> {
    return this.request('Batch', { items: items.map((item) => ({ op: item.op, args: item.args ?? {} })) }, meta);
  }

  clientIssue(args: T.ClientIssueArgs, meta?: T.RequestMeta): Promise<{ client: T.ClientRecord; certificatePem: string; caPem: string }> {
    return this.request('ClientIssue', { ...args }, meta);
  }

  clientList(meta?: T.RequestMeta): Promise<{ clients: T.ClientRecord[] }> {
    return this.request('ClientList', {}, meta);
  }

  clientRevoke(args: { name: string }, meta?: T.RequestMeta): Promise<{ client: T.ClientRecord }> {
    return this.request('ClientRevoke', { ...args }, meta);
  }

  policyGrant(args: T.PolicyGrantArgs, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<{ grant: T.GrantRecord }> {
    return this.request('PolicyGrant', { ...args }, meta, call);
  }

  policyRevoke(args: { id: string }, meta?: T.RequestMeta, call?: T.WriteOptions): Promise<{ grant: T.GrantRecord }> {
    return this.request('PolicyRevoke', { ...args }, meta, call);
  }

  /** A client's effective permissions on a key and what gives each (officers and auditors). */
  policyCheck(args: { client: string; name: string }, meta?: T.RequestMeta): Promise<T.PolicyCheckResult> {
    return this.request('PolicyCheck', { ...args }, meta);
  }

  policyList(args: { client?: string; group?: string } = {}, meta?: T.RequestMeta): Promise<{ grants: T.GrantRecord[] }> {
    return this.request('PolicyList', { ...args }, meta);
  }

  /**
   * Graceful: new requests fail at once (UNAVAILABLE), those in flight or
   * queued get up to `graceMs` (default: the request timeout) to finish, then
   * the sockets end. Cached material is zeroed first.
   */
  async close(graceMs: number = this.options.requestTimeoutMs): Promise<void> {
    this.dropCache();
    await this.pool.close(graceMs);
  }

  /** Immediately: pending requests reject with UNAVAILABLE, sockets are destroyed, cached material is zeroed. */
  destroy(): void {
    this.dropCache();
    this.pool.destroy();
  }

  private dropCache(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.cache?.close();
  }
}
