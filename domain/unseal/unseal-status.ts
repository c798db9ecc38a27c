/**
 * What UnsealStatus answers (docs/protocol.md §6.4), apart from the unseal
 * service: the client library takes these as types without the HSM port.
 */
export interface UnsealStatus {
  readonly sealed: boolean;
  /** 'hsm': the HSM alone unseals (PIN file or variable); 'hsm+shares': the HSM and `threshold` custodians. */
  readonly mode: 'hsm' | 'hsm+shares';
  readonly shares: number | null;
  readonly threshold: number | null;
  /** 'each-share': every share is checked at submission (commitments stored at init); 'at-threshold': only the combination is (older keychains). */
  readonly shareCheck: 'each-share' | 'at-threshold' | null;
  /** Shares held for the pending attempt (k of threshold). */
  readonly submitted: number;
  /** Custodian numbers of the shares held (not secret: printed beside each share); officers and auditors only. */
  readonly custodians: number[];
  /** When the pending attempt is forgotten (ISO), or null. */
  readonly pendingExpiresAt: string | null;
}

/** What an application sees: whether it can use keys, nothing of the ceremony. */
export interface PublicUnsealStatus {
  readonly sealed: boolean;
}
