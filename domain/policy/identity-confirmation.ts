/**
 * Confirms, request by request, that a connection's identity is still what
 * a verified client row says. A TLS identity is looked up once, at the
 * handshake; if the keychain was sealed then, the row could not be verified
 * (its MAC key derives from the keychain key), and a sealed appliance serves
 * only the operations of ALLOWED_WHILE_SEALED. Once unsealed, every request
 * is held to the verified row: a forged or edited row (a role raised to
 * officer, groups added) fails with INTEGRITY_FAILURE; a revoked, removed or
 * changed client is UNAUTHENTICATED.
 *
 * Verified rows are cached by certificate fingerprint until the store's
 * change stamp moves, so the hot path pays a map lookup.
 */
import { AccessError } from '../../common/errors';
import { ClientRecord, DirectoryStore } from '../../storage/directory-store';
import { ClientIdentity } from './identity';

export class IdentityConfirmation {
  private verified = new Map<string, ClientRecord>();
  private stamp: string | null = null;

  constructor(
    private readonly directory: DirectoryStore,
    private readonly changeStamp: () => string,
    private readonly isSealed: () => boolean,
  ) {}

  confirm(identity: ClientIdentity): void {
    // The local operator has no row: it is whoever can open the data folder and the HSM.
    if (identity.local === true || this.isSealed()) return;
    const stamp = this.changeStamp();
    if (stamp !== this.stamp) {
      this.verified = new Map();
      this.stamp = stamp;
    }
    let client = this.verified.get(identity.fingerprint256);
    if (client === undefined) {
      const found = this.directory.getClientByFingerprint(identity.fingerprint256);
      if (found === null) throw refused(identity, 'no client record has this certificate');
      client = found;
      this.verified.set(identity.fingerprint256, client);
    }
    if (client.revokedAt !== null) throw refused(identity, 'the client is revoked');
    if (client.name !== identity.name || client.role !== identity.role || !sameGroups(client.groups, identity.groups)) {
      throw refused(identity, "the connection's identity is not the client's verified record; reconnect");
    }
  }
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((g, i) => g === b[i]);
}

function refused(identity: ClientIdentity, why: string): AccessError {
  return new AccessError('UNAUTHENTICATED', `${identity.name}: ${why}`);
}
