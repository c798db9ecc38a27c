/**
 * What the CLI's commands work against: the data folder's keychain through
 * the in-process transport (local mode, as the local operator) or a running
 * appliance over mutual TLS (remote mode: `--server`, with an officer
 * certificate); both are the same operations (operations-backend.ts).
 * Every command is written once against this interface, in the wire's
 * result types (client/types.ts).
 */
import type { ApprovalView, CertificateView, ClientRecord, GrantRecord, InstanceView, KeyView, KeyWithInstances, RetrievedKey } from '../../client/types';
import { KeyArgs } from '../commands/key-spec-options';

/** RolloverDue's answer: `at` is the end of the window; `from` and `within` only when a window was asked for. */
export interface RolloverDueReport {
  readonly at: string;
  readonly from?: string;
  readonly within?: string;
  readonly due: Array<{ name: string; nextRolloverAt: string }>;
}

export interface KeyListFilter {
  readonly namespace?: string;
  readonly match?: string;
  readonly algorithm?: string;
  readonly limit: number;
}

export interface IssuedCertificate {
  readonly client: ClientRecord;
  readonly certificatePem: string;
  readonly caPem: string;
}

/** ClientRenew's answer: the new certificate, and the serial, fingerprint and end of the one it replaced. */
export interface RenewedClientCertificate extends IssuedCertificate {
  readonly previous: { readonly serialNumber: string; readonly fingerprint256: string; readonly notAfter: string };
}

/** ServerCertRenew's answer. */
export interface RenewedServerCertificateView {
  readonly certificate: CertificateView;
  readonly previous: CertificateView;
}

/** An approved wrapped export's result (docs/protocol.md §6.5): the wrapped bytes, and what they are and are wrapped under. */
export interface WrappedExport {
  readonly key: KeyView;
  readonly instance: InstanceView;
  readonly wrapMethod: string;
  readonly wrappingKey: Record<string, unknown>;
  readonly materialLength: number;
  readonly kcv: string;
  readonly kcvKind: string;
  readonly wrapped: Buffer;
}

export type Collected =
  | { readonly kind: 'key'; readonly key: RetrievedKey }
  | { readonly kind: 'wrapped'; readonly exported: WrappedExport }
  | { readonly kind: 'certificate'; readonly issued: IssuedCertificate };

/** Export's arguments (docs/protocol.md §6.5): the key, and the RSA public key or the appliance AES key to wrap under. */
export interface ExportRequest {
  readonly name?: string;
  readonly instance?: string;
  readonly wrapMethod: 'AES-KWP' | 'RSA-OAEP-SHA256';
  readonly wrapPublicKey?: string;
  readonly wrapKey?: string;
  readonly wrapInstance?: string;
}

export interface GrantRequest {
  readonly client?: string;
  readonly group?: string;
  readonly pattern: string;
  readonly permissions: string[];
}

export interface CliBackend {
  readonly mode: 'local' | 'remote';
  createKey(args: KeyArgs): Promise<KeyWithInstances>;
  /** `unwrap`: `material` is wrapped (RFC 5649) under that appliance AES key, a key import (§6.5). */
  registerKey(args: KeyArgs, material: Buffer, unwrap?: { unwrapKey?: string; unwrapInstance?: string }): Promise<KeyWithInstances>;
  /** Export is always dual-controlled: the server answers APPROVAL_REQUIRED, and `collect` gives the wrapped bytes. */
  exportKey(request: ExportRequest): Promise<never>;
  /** The caller zeroes `material`. */
  getKey(ref: { name?: string; instance?: string }): Promise<RetrievedKey>;
  listKeys(filter: KeyListFilter): Promise<KeyView[]>;
  describeKey(name: string): Promise<KeyWithInstances>;
  /** ReKey: `material` is a SECRET key's new material (the caller zeroes it); without it the appliance generates. */
  rollover(name: string, options?: RolloverOptions): Promise<KeyWithInstances>;
  undoRollover(name: string): Promise<KeyWithInstances>;
  setAlias(alias: string, name: string): Promise<{ alias: string; key: string }>;
  removeAlias(alias: string): Promise<{ alias: string; key: string }>;
  listAliases(): Promise<Array<{ alias: string; key: string }>>;
  listNamespaces(): Promise<Array<{ namespace: string; keys: number; liveKeys: number }>>;
  removeNamespace(namespace: string): Promise<{ namespace: string; keysRemoved: number }>;
  /** `role` as the operator typed it: the dispatcher's codec checks it. */
  issueClient(request: { name: string; role: string; groups: string[]; publicKeyPem: string; validityDays?: number }): Promise<IssuedCertificate>;
  listClients(): Promise<ClientRecord[]>;
  revokeClient(name: string): Promise<ClientRecord>;
  /** ClientRenew: a certificate for a new public key of an existing client, which replaces its old one at once. */
  renewClient(request: { name: string; publicKeyPem: string; validityDays?: number }): Promise<RenewedClientCertificate>;
  /** ServerCertRenew: a new TLS server certificate, served at once by a running appliance. */
  renewServerCertificate(validityDays?: number): Promise<RenewedServerCertificateView>;
  grant(request: GrantRequest): Promise<GrantRecord>;
  revokeGrant(id: string): Promise<GrantRecord>;
  listGrants(filter: { client?: string; group?: string }): Promise<GrantRecord[]>;
  setRolloverPolicy(name: string, rollover: string | undefined, cryptoperiod?: string, periods?: { protectPeriod?: string; processPeriod?: string }): Promise<KeyWithInstances>;
  /** Keys due for rollover at `at` (default now), or within the ISO 8601 duration `within` after it. */
  rolloverDue(at: string | undefined, limit: number, within?: string): Promise<RolloverDueReport>;
  /** Rolls what is due at `at` (default now; `at` only in local mode). */
  rolloverRun(at: string | undefined): Promise<RolloverRunResult>;
  /** Activate, Revoke, Destroy (scheduled) and DestroyCancel of an instance. */
  lifecycle(action: LifecycleAction, ref: { name?: string; instance?: string }, reason?: string): Promise<InstanceView>;
  /** Remote mode: the server's answer to Query (version, limits, who we are). Local mode: null. */
  query(): Promise<Record<string, unknown> | null>;
  /** Dual control (remote mode; local mode reads the list but refuses votes: DUAL_CONTROL_LOCAL_MODE). */
  listApprovals(filter: { state?: string; mine?: boolean; limit?: number }): Promise<ApprovalView[]>;
  getApproval(id: string): Promise<ApprovalView>;
  approve(id: string, digest: string): Promise<ApprovalView>;
  deny(id: string, reason: string): Promise<ApprovalView>;
  cancelApproval(id: string): Promise<ApprovalView>;
  /**
   * What an approved request gives its requester: a key export's material,
   * once (the caller zeroes it), or the certificate of a client issued under
   * dual control, for the private key the requester's CLI kept.
   */
  collect(id: string): Promise<Collected>;
  quorums(): Promise<QuorumView[]>;
  setQuorum(dualControlClass: string, required: number): Promise<{ class: string; required: number }>;
  close(): Promise<void>;
}

export interface QuorumView {
  readonly class: string;
  readonly required: number;
  readonly updatedAt: string | null;
  readonly updatedBy: string;
}

export interface RolloverOptions {
  readonly material?: Buffer;
  /** An ISO 8601 date-time in the future: the new instance waits, PreActive, and becomes current then. */
  readonly activateAt?: string;
}

export type LifecycleAction = 'activate' | 'revoke' | 'destroy' | 'destroy-cancel';

export interface RolloverRunResult {
  readonly rolled: number;
  readonly failed: number;
  readonly batches: number;
  readonly keys: Array<{ name: string; instance: string }>;
  /** Instances whose activation date had come, activated first. */
  readonly activated: number;
  readonly activationsFailed: number;
}
