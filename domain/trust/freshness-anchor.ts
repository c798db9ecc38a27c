/**
 * The trust state's counter, kept also in the HSM token: what makes a whole
 * database file swapped for an older copy (consistent with itself, rows,
 * set-hash and trail alike) detectable. The counter only grows; at unseal
 * the file's counter must be at least the token's, and a file with no trust
 * state at all is refused once the token has one (deleting trust_state must
 * not buy a fresh "trust on first unseal").
 *
 * The token is written at unseal and at every audit checkpoint (never per
 * request: an HSM write costs milliseconds), so a rollback to a copy taken
 * after the last checkpoint is not caught here; the audit trail's signed
 * checkpoints and the SIEM's copy of each event bound that window.
 *
 * Someone with the HSM PIN can write the token too: they can lower the anchor
 * along with the file. docs/threat-model.md lists that row.
 */
import { KeychainError } from '../../common/errors';
import { HsmPort } from '../../hsm/hsm-port';

const MAGIC = Buffer.from('SRF1');

export function anchorLabel(keychainId: string): string {
  return `strongroom-freshness-${keychainId}`;
}

function encode(counter: number): Buffer {
  const out = Buffer.alloc(MAGIC.length + 8);
  MAGIC.copy(out);
  out.writeBigUInt64BE(BigInt(counter), MAGIC.length);
  return out;
}

function decode(value: Buffer): number {
  if (value.length !== MAGIC.length + 8 || !value.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new KeychainError('INTEGRITY_FAILURE', "the HSM token's freshness anchor of this keychain is not one the appliance wrote");
  }
  return Number(value.readBigUInt64BE(MAGIC.length));
}

/** The counter the token last saw for this keychain (the highest, if a write left two), or null when it has none yet. */
export async function readFreshnessAnchor(hsm: HsmPort, keychainId: string): Promise<number | null> {
  const values = (await hsm.readAnchors(anchorLabel(keychainId))).map(decode);
  return values.length === 0 ? null : Math.max(...values);
}

/**
 * INTEGRITY_FAILURE when the file is older than the token says: its trust
 * counter (`fileCounter`, null when the file has no trust state) is below
 * the anchored one.
 */
export function assertNotRolledBack(anchored: number | null, fileCounter: number | null): void {
  if (anchored === null) return;
  if (fileCounter === null) {
    throw new KeychainError('INTEGRITY_FAILURE', `the keychain database has no trust state, but the HSM token saw it at change ${anchored}: the state was deleted or the file replaced`);
  }
  if (fileCounter < anchored) {
    throw new KeychainError('INTEGRITY_FAILURE', `the keychain database is at change ${fileCounter}, but the HSM token saw it at change ${anchored}: it is an older copy (rolled back). Restore the current file, or see docs/threat-model.md`);
  }
}

/** Raises the token's counter to `counter` (never lowers it); `known`: the anchor the caller just read, to spare a second HSM read. */
export async function advanceFreshnessAnchor(hsm: HsmPort, keychainId: string, counter: number, known?: number | null): Promise<void> {
  const anchored = known !== undefined ? known : await readFreshnessAnchor(hsm, keychainId);
  if (anchored !== null && anchored >= counter) return;
  await hsm.writeAnchor(anchorLabel(keychainId), encode(counter));
}
