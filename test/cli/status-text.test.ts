/**
 * The state line of `strongroom --server … status` (cli/commands/status.ts):
 * an appliance its HSM's loss sealed is not told to run `unseal` (which
 * cannot help while the token is gone; the hsm line says what brings it
 * back), while one sealed on request still is.
 */
import { stateText } from '../../cli/commands/status';
import type { HsmHealth } from '../../domain/unseal/hsm-health';
import type { UnsealStatus } from '../../domain/unseal/unseal-status';

const sealedHsmAlone: UnsealStatus = { sealed: true, mode: 'hsm', shares: null, threshold: null, shareCheck: null, submitted: 0, custodians: [], pendingExpiresAt: null };
const ok: HsmHealth = { state: 'ok', since: null, error: null, recovery: null };
const gone: HsmHealth = { state: 'unavailable', since: '2026-12-07T11:50:27.076Z', error: 'HSM_TOKEN_NOT_FOUND', recovery: 'automatic' };

describe('status state line', () => {
  it('points a keychain sealed on request at unseal', () => {
    expect(stateText(sealedHsmAlone, ok)).toMatch(/run strongroom unseal/);
  });

  it('does not point a keychain sealed by its HSM\'s loss at unseal, and names the HSM', () => {
    const line = stateText(sealedHsmAlone, gone);
    expect(line).not.toMatch(/unseal/);
    expect(line).toBe('Sealed: its HSM is unavailable (see hsm)');
  });

  it('says unsealed whatever the HSM line says (an unsealed keychain is the state that matters)', () => {
    expect(stateText({ ...sealedHsmAlone, sealed: false }, ok)).toBe('Unsealed (HSM alone)');
  });
});
