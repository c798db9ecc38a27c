/**
 * One turn at the SoftHSM2 token folder for the whole chaos test: every
 * lane's tokens live in one folder (one SOFTHSM2_CONF, since the parent
 * holds a port to each), and a process opening SoftHSM2 reads every token
 * there (C_GetTokenInfo of each slot, to find its label). A token another
 * process is rewriting at that moment reads as broken (CKR_GENERAL_ERROR):
 * seed 2 failed so, a child's open in one lane meeting an anchor write in
 * another. So a child's marked HSM sections (login and unseal, each write
 * to its token, closing: chaos-child-session.ts) and the parent's checks,
 * which unseal and so write the lane's freshness anchor, take turns.
 * A limit of the software token, not of the appliance: an HSM serialises
 * its own token's writes.
 */
export interface HsmTurn {
  /** Resolves with a release once no one else holds the turn; waiters are served in order. */
  take(): Promise<() => void>;
}

export function newHsmTurn(): HsmTurn {
  let tail: Promise<void> = Promise.resolve();
  return {
    take() {
      let release!: () => void;
      const released = new Promise<void>((done) => (release = done));
      const taken = tail.then(() => {
        let once = false;
        return () => {
          if (once) return;
          once = true;
          release();
        };
      });
      tail = tail.then(() => released);
      return taken;
    },
  };
}

/** The turn all lanes share. */
export const CHAOS_HSM_TURN: HsmTurn = newHsmTurn();
