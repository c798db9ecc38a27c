/**
 * Discover Versions (KMIP 2.1 §6.1.19, 1.4 §4.26): the versions this server
 * speaks that the client listed (all of them when it listed none), newest
 * first. It asks the native Query, so the request is identified, audited
 * and refused while the client is revoked like any other.
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from '../kmip-message';
import { KmipOperation } from './kmip-operation';
import { integerItem, PayloadReader, responsePayload, structureItem } from './payload';

export const discoverVersions: KmipOperation = {
  operation: 'DiscoverVersions',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const asked = reader.all('ProtocolVersion').map((node) => {
      const version = new PayloadReader(node, 'RequestPayload/ProtocolVersion');
      const major = version.integer('ProtocolVersionMajor');
      const minor = version.integer('ProtocolVersionMinor');
      version.rejectOthers();
      return { major: major ?? -1, minor: minor ?? -1 };
    });
    reader.rejectOthers();
    await ctx.call('Query', {});
    const newestFirst = [...SUPPORTED_PROTOCOL_VERSIONS].reverse();
    const offered = asked.length === 0 ? newestFirst : asked.filter((a) => newestFirst.some((v) => v.major === a.major && v.minor === a.minor));
    return responsePayload(
      offered.map((v) => structureItem('ProtocolVersion', [integerItem('ProtocolVersionMajor', v.major), integerItem('ProtocolVersionMinor', v.minor)])),
    );
  },
};
