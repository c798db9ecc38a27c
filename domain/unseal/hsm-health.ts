/**
 * What the server knows of its HSM's health (server/compose/hsm-watch.ts
 * watches it), as operations see it: Query shows the status, and the
 * dispatcher's sealed gate names the reason when the HSM sealed the appliance.
 */

/** What Query and `strongroom status` show of the HSM. */
export interface HsmHealth {
  /** 'ok': the token answers; 'unavailable': it does not, and the appliance was sealed. */
  readonly state: 'ok' | 'unavailable';
  /** When it was found unavailable (ISO), or null. */
  readonly since: string | null;
  /** The code (and CKR name) of the last failed probe, never more. */
  readonly error: string | null;
  /** What brings the appliance back once the HSM answers: the server itself, or the custodians' shares; null while ok. */
  readonly recovery: 'automatic' | 'custodians' | null;
}

/** Why the appliance is sealed, when not on request. */
export type SealReason = 'hsm-unavailable';

export interface HsmHealthView {
  status(): HsmHealth;
  /** 'hsm-unavailable' while the HSM's loss keeps the appliance sealed; else null. */
  sealReason(): SealReason | null;
}
