/** The messages between the checkpointer and its verification worker (no I/O, no state). */

export interface VerifySetup {
  readonly keychainPath: string;
  readonly signed: { readonly seq: number; readonly hash: Uint8Array } | null;
  readonly toSeq: number;
  readonly unsignedRunsUpTo: number;
}

export type VerifyReply =
  | {
      readonly ok: true;
      readonly verdict: { readonly ok: boolean; readonly head: { readonly seq: number; readonly hash: Uint8Array } | null; readonly firstBadSeq?: number; readonly reason?: string };
      readonly earlierRun: number;
    }
  | { readonly ok: false; readonly message: string };
