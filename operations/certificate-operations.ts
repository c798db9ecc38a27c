/**
 * Certificate renewal (docs/protocol.md §6, docs/certificates.md).
 *
 * ClientRenew certifies a new public key for an existing client (same name,
 * role and groups) and puts it in the client's record in place of the old
 * certificate, which from then on names nobody: refused at its next
 * handshake, and the connections opened with it are closed, as a revocation
 * closes them.
 * The requester holds the new private key (the CLI made it), so a renewal
 * hands over the client's identity exactly as issuing it did: it is
 * dual-controlled whenever ClientIssue of that client would be — an officer
 * (its own certificate too: otherwise one officer could take over another
 * officer's identity, or a stolen officer key could extend itself for 825
 * days with nobody else looking), or an app that a grant gives key material,
 * or that a PolicyGrant request not yet carried out would (material-cover.ts).
 *
 * ServerCertRenew makes a new TLS server key and certificate inside the
 * appliance (nothing leaves it) and serves it at once to new connections;
 * one officer may do it: it gives nobody anything.
 */
import { KeychainError } from '../common/errors';
import { OFFICER_ISSUE_CLASS } from '../domain/approvals/quorum-settings';
import { coveredByMaterialGrant } from './material-cover';
import { Operation } from './operation';

export const clientRenew: Operation<'ClientRenew'> = {
  name: 'ClientRenew',
  access: 'officer',
  changesState: true,
  dualControl: (args, ctx) => {
    // The verified row decides (and a renewal of nobody stores no request).
    const client = ctx.services.directory.getClientByName(args.name);
    if (client === null) throw new KeychainError('CLIENT_NOT_FOUND', `no client named "${args.name}" (strongroom client list shows them; a new client is made with client issue)`, { details: { client: args.name } });
    if (client.revokedAt !== null) throw new KeychainError('WRONG_STATE', `client "${args.name}" was revoked at ${client.revokedAt}; a revoked client is not renewed: issue a new name`);
    if (client.role === 'officer') return OFFICER_ISSUE_CLASS;
    return coveredByMaterialGrant(ctx, client) ? 'grant-material' : null;
  },
  run: (args, ctx) => {
    const renewed = ctx.services.pki.renewClient({ name: args.name, publicKeyPem: args.publicKeyPem, validityDays: args.validityDays });
    // As a revocation does: every open connection of the client was made with the old certificate (none can use the new one yet).
    ctx.services.disconnectClient(renewed.client.name);
    const { previous, ...issued } = renewed;
    return { ...issued, previous: { serialNumber: previous.serialNumber, fingerprint256: previous.fingerprint256, notAfter: previous.notAfter } };
  },
};

export const serverCertRenew: Operation<'ServerCertRenew'> = {
  name: 'ServerCertRenew',
  access: 'officer',
  changesState: true,
  run: (args, ctx) => {
    const certificates = ctx.services.certificates;
    if (certificates === undefined) throw new KeychainError('WRONG_STATE', 'this appliance has no server certificate to renew');
    return certificates.renewServer({ validityDays: args.validityDays });
  },
};
