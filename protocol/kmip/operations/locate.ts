/**
 * Locate (KMIP 2.1 §6.1.27, 1.4 §4.9): the Unique Identifiers of the
 * objects matching the attributes given (locate-filters.ts), through the
 * native Locate, which answers only keys the client may `locate`. Each key
 * located answers as its current instance (the object a client uses; a
 * key's older instances are reached by its Links). Offset Items and Maximum
 * Items count matching objects: native pages are read, each an audited
 * Locate, until enough match or the keys run out.
 */
import type { KeyView } from '../../../domain/view-types';
import { MAX_LOCATE_LIMIT } from '../../op-schemas';
import { KmipOperation, KmipOperationError } from './kmip-operation';
import { locateQuery } from './locate-filters';
import { PayloadReader, responsePayload, textItem } from './payload';

/** Most identifiers one Locate answers when the client asks for more or names no Maximum Items (KMIP lets a server answer fewer). */
export const MAX_LOCATED_ITEMS = MAX_LOCATE_LIMIT;

interface NativePage {
  readonly keys: readonly KeyView[];
  readonly nextOffset: number | null;
}

function count(reader: PayloadReader, name: 'MaximumItems' | 'OffsetItems'): number | undefined {
  const value = reader.integer(name);
  if (value !== undefined && value < 0) throw new KmipOperationError('InvalidField', `${reader.path}/${name} must not be negative`);
  return value;
}

export const locate: KmipOperation = {
  operation: 'Locate',
  async run(payload, ctx) {
    const reader = new PayloadReader(payload);
    const maximum = Math.min(count(reader, 'MaximumItems') ?? MAX_LOCATED_ITEMS, MAX_LOCATED_ITEMS);
    const skip = count(reader, 'OffsetItems') ?? 0;
    const query = locateQuery(reader, ctx.version);
    reader.rejectOthers();
    const located: string[] = [];
    let seen = 0;
    let offset: number | null = 0;
    while (offset !== null && located.length < maximum) {
      const page = (await ctx.call('Locate', { pattern: query.pattern, algorithm: query.algorithm, attributes: query.attributes, dates: query.dates, limit: MAX_LOCATE_LIMIT, offset })) as NativePage;
      for (const key of page.keys) {
        if (!query.matches(key)) continue;
        if (seen++ >= skip && located.length < maximum) located.push(key.currentInstance);
      }
      // Only forward: a page that does not say where the next starts ends the walk.
      offset = typeof page.nextOffset === 'number' && page.nextOffset > offset ? page.nextOffset : null;
    }
    return responsePayload(located.map((uid) => textItem('UniqueIdentifier', uid)));
  },
};
