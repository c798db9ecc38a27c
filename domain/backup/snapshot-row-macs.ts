/**
 * The per-row check of a keychain copy before a restore puts it in place
 * (docs/backup.md §5, §7): every key, instance and alias row against its
 * row MAC (domain/row-mac.ts) and every client, grant, approval request,
 * vote and quorum against its authorisation MAC (domain/trust/), under the
 * copy's own keychain key. The set-hash check (trust-ledger.ts) proves the
 * set of MACs is the one the appliance last wrote; this proves each row
 * still matches its MAC, so a row edited in place (its MAC kept) is refused
 * before the swap instead of when the restored keychain first reads it.
 * INTEGRITY_FAILURE names the first row that fails.
 */
import { wipe } from '../../common/secret';
import { KeychainStore } from '../../storage/keychain-store';
import { deriveRowMacKey, verifyAliasRow, verifyInstanceRow, verifyKeyRow } from '../row-mac';
import { AuthenticatedApprovals } from '../trust/authenticated-approvals';
import { AuthenticatedDirectory } from '../trust/authenticated-directory';
import { TrustKeys } from '../trust/trust-keys';
import { ApprovalState } from '../../storage/approval-store';

const APPROVAL_STATES: readonly ApprovalState[] = ['pending', 'approved', 'executing', 'executed', 'failed', 'denied', 'cancelled', 'expired'];

/** Most approval requests one keychain copy is checked for (every request ever stored, up to this). */
const MAX_APPROVALS_CHECKED = 1_000_000;

export function checkRowMacs(store: KeychainStore, keychainId: string, keychainKey: Buffer, trustKeys: TrustKeys): { readonly rows: number } {
  const macKey = deriveRowMacKey(keychainKey);
  let rows = 0;
  try {
    for (const key of store.listKeys()) {
      verifyKeyRow(macKey, keychainId, key);
      rows++;
      for (const instance of store.listInstances(key.id)) {
        verifyInstanceRow(macKey, keychainId, instance);
        rows++;
      }
    }
    for (const alias of store.listAliases()) {
      verifyAliasRow(macKey, keychainId, alias);
      rows++;
    }
  } finally {
    wipe(macKey);
  }
  const directory = new AuthenticatedDirectory(store.directory, () => trustKeys);
  rows += directory.listClients().length + directory.listGrants().length;
  const approvals = new AuthenticatedApprovals(store.approvals, () => trustKeys);
  for (const request of approvals.listApprovals({ states: APPROVAL_STATES, limit: MAX_APPROVALS_CHECKED })) rows += 1 + request.votes.length;
  rows += approvals.listQuorums().length;
  return { rows };
}
