/**
 * Local mode: the CLI opens the keychain in the data folder itself and
 * unseals it with the HSM (the same services the server runs).
 */
import { randomUUID } from 'node:crypto';
import { systemClock, isoNow } from '../../common/clock';
import { parseAlgorithm } from '../../domain/algorithms';
import { Appliance } from '../../server/open-appliance';
import { PkiService } from '../../server/pki-service';
import { parsePermissions } from '../../server/policy/permissions';
import { ValidationError } from '../../common/errors';
import { keySpecFrom } from '../commands/key-spec-options';
import { CliBackend } from './backend';

export function localBackend(appliance: Appliance): CliBackend {
  const ready = appliance.unseal();
  const keychain = appliance.keychain;
  const pki = (): PkiService => new PkiService(keychain, appliance.store.directory, systemClock);
  return {
    mode: 'local',
    createKey: async (name, options) => (await ready, keychain.createKey(keySpecFrom(name, options))),
    registerKey: async (name, options, material) => (await ready, keychain.registerKey(keySpecFrom(name, options), material)),
    getKey: async (ref) => (await ready, keychain.getKey({ fullName: ref.name, instance: ref.instance })),
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
    issueClient: async (request) => (await ready, pki().issueClient(request)),
    listClients: async () => (await ready, appliance.store.directory.listClients()),
    revokeClient: async (name) => (await ready, pki().revokeClient(name)),
    grant: async (request) => {
      await ready;
      if ((request.client === undefined) === (request.group === undefined)) throw new ValidationError('give exactly one of --client or --group');
      const grant = {
        id: randomUUID(),
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
    close: () => appliance.close(),
  };
}
