/**
 * Local mode: the CLI opens the keychain in the data folder itself and
 * unseals it with the HSM (the same services the server runs).
 *
 * Local mode has no certificate, so no identity that officers' approvals
 * could be counted against: it refuses every dual-controlled operation (key
 * get, destroy, client revoke, a grant of material, votes on approval
 * requests) with DUAL_CONTROL_LOCAL_MODE, telling the operator to use
 * --server with an officer certificate. It can still list approval requests.
 */
import { systemClock, isoNow } from '../../common/clock';
import { parseAlgorithm } from '../../domain/algorithms';
import { Appliance } from '../../server/compose/open-appliance';
import { PkiService } from '../../domain/pki/pki-service';
import { parsePermissions } from '../../domain/policy/permissions';
import { checkGlob } from '../../domain/policy/glob';
import { ValidationError } from '../../common/errors';
import { keySpecFrom } from '../commands/key-spec-options';
import { makeRolloverPolicy } from '../../domain/rollover-policy';
import { sweepDueRollovers } from '../../domain/rollover-scheduler';
import { parseUsagePeriods } from '../../domain/usage-periods';
import { LifecycleService, RevocationReason } from '../../domain/lifecycle-service';
import { CliBackend } from './backend';
import { ApprovalError } from '../../common/errors';
import { approvalView } from '../../domain/approvals/approval-view';
import { MATERIAL_PERMISSIONS } from '../../domain/policy/permissions';

function localRefusal(what: string): ApprovalError {
  return new ApprovalError('DUAL_CONTROL_LOCAL_MODE', `${what} is dual-controlled: local mode has no officer identity to approve against; run it with --server and an officer certificate`);
}

function parseAt(at: string | undefined): number {
  if (at === undefined) return systemClock.nowMs();
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new ValidationError(`--at "${at}" is not an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z)`);
  return ms;
}

export function localBackend(appliance: Appliance): CliBackend {
  const ready = appliance.unseal();
  // Commands that never await it (reading approvals needs no key) must not leave it rejecting unheard.
  ready.catch(() => undefined);
  /** Waits for the unseal the backend started to settle, whatever its outcome: close() must not seal under it. */
  const settled = (): Promise<void> => ready.then(() => undefined, () => undefined);
  /** A dual-controlled action local mode refuses (after the unseal settles, so close() does not seal under it). */
  const refuseLocally = (what: string) => async (): Promise<never> => {
    await settled();
    throw localRefusal(what);
  };
  const keychain = appliance.keychain;
  const pki = (): PkiService => new PkiService(keychain, appliance.store.directory, systemClock);
  return {
    mode: 'local',
    createKey: async (name, options) => (await ready, keychain.createKey(keySpecFrom(name, options))),
    registerKey: async (name, options, material) => (await ready, keychain.registerKey(keySpecFrom(name, options), material)),
    getKey: async () => {
      await ready; // the unseal started with the backend must finish before close()
      throw new ApprovalError('DUAL_CONTROL_LOCAL_MODE', 'key get is not served in local mode: keys go to a granted app over the wire (--server with the app\'s --cert and --key); an officer\'s fetch is a key export that two other officers approve (strongroom approvals)');
    },
    listKeys: async (filter) => {
      await ready;
      return keychain.listKeys({
        namespace: filter.namespace,
        namePattern: filter.match,
        algorithm: filter.algorithm ? parseAlgorithm(filter.algorithm) : undefined,
        limit: filter.limit,
      });
    },
    describeKey: async (name) => (await ready, keychain.describeKey(name)),
    rollover: async (name) => (await ready, keychain.rollover(name)),
    undoRollover: async (name) => (await ready, keychain.undoRollover(name)),
    setAlias: async (alias, name) => (await ready, keychain.setAlias(alias, name)),
    removeAlias: async (alias) => (await ready, keychain.removeAlias(alias)),
    listAliases: async () => (await ready, keychain.listAliases()),
    listNamespaces: async () => (await ready, keychain.listNamespaces()),
    removeNamespace: async (namespace) => (await ready, { namespace, keysRemoved: keychain.removeNamespace(namespace) }),
    issueClient: async (request) => (await ready, pki().issueClient(request)),
    listClients: async () => (await ready, appliance.store.directory.listClients()),
    revokeClient: refuseLocally('client revoke'),
    grant: async (request) => {
      await ready;
      if ((request.client === undefined) === (request.group === undefined)) throw new ValidationError('give exactly one of --client or --group');
      checkGlob(request.pattern);
      if (request.permissions.some((p) => MATERIAL_PERMISSIONS.has(p))) throw localRefusal(`a grant of ${request.permissions.filter((p) => MATERIAL_PERMISSIONS.has(p)).join(', ')}`);
      const grant = {
        id: appliance.ids.newId(),
        subjectKind: request.client !== undefined ? ('client' as const) : ('group' as const),
        subject: (request.client ?? request.group) as string,
        pattern: request.pattern,
        permissions: parsePermissions(request.permissions),
        createdAt: isoNow(systemClock),
        createdBy: 'local-cli',
      };
      appliance.store.directory.putGrant(grant);
      return grant;
    },
    revokeGrant: async (id) => (await ready, appliance.store.directory.deleteGrant(id)),
    listGrants: async (filter) =>
      (await ready,
      appliance.store.directory
        .listGrants()
        .filter((g) => (!filter.client || (g.subjectKind === 'client' && g.subject === filter.client)) && (!filter.group || (g.subjectKind === 'group' && g.subject === filter.group)))),
    setRolloverPolicy: async (name, rollover, cryptoperiod, periods) =>
      (await ready,
      keychain.setRolloverPolicy(name, makeRolloverPolicy(rollover, cryptoperiod), periods ? parseUsagePeriods(periods.protectPeriod, periods.processPeriod) : undefined)),
    rolloverDue: async (at, limit) => {
      await ready;
      const atMs = parseAt(at);
      return { at: new Date(atMs).toISOString(), due: keychain.dueKeys(atMs, limit).map((d) => ({ name: keychain.keyNameById(d.keyId), nextRolloverAt: d.nextRolloverAt })) };
    },
    rolloverRun: async (at) => {
      await ready;
      const keys: Array<{ name: string; instance: string }> = [];
      const result = await sweepDueRollovers(keychain, parseAt(at), { onRolled: (name, instance) => keys.push({ name, instance }) });
      return { ...result, keys };
    },
    lifecycle: async (action, ref, reason) => {
      await ready;
      const lifecycle = new LifecycleService(keychain, systemClock);
      const keyRef = { fullName: ref.name, instance: ref.instance };
      switch (action) {
        case 'activate':
          return lifecycle.activate(keyRef);
        case 'revoke':
          return lifecycle.revoke(keyRef, (reason ?? 'unspecified') as RevocationReason);
        case 'destroy':
          throw localRefusal('key destroy');
        case 'destroy-cancel':
          return lifecycle.cancelDestruction(keyRef);
      }
    },
    query: async () => null,
    listApprovals: async (filter) =>
      (await settled(),
      appliance.store.approvals
        .listApprovals({ states: filter.state === undefined ? undefined : filter.state === 'open' ? ['pending', 'approved'] : [filter.state as 'pending'], limit: filter.limit ?? 100 })
        .map(approvalView)),
    getApproval: async (id) => {
      await settled();
      const record = appliance.store.approvals.getApproval(id);
      if (!record) throw new ApprovalError('APPROVAL_NOT_FOUND', `no approval request "${id}"`);
      return approvalView(record);
    },
    approve: refuseLocally('approving a request'),
    deny: refuseLocally('denying a request'),
    cancelApproval: refuseLocally('cancelling a request'),
    collect: refuseLocally('collecting an export'),
    quorums: async () =>
      (await settled(),
      appliance.store.approvals.listQuorums().map((q) => ({ class: q.dualControlClass, required: q.required, updatedAt: q.updatedAt, updatedBy: q.updatedBy }))),
    setQuorum: refuseLocally('a quorum change'),
    close: () => appliance.close(),
  };
}
