/**
 * The keys-and-instances capability on PostgreSQL: storage/sqlite-keys.ts
 * as it is, except listKeys, the one statement of storage/sqlite-rows.ts
 * whose SQL cannot be shared (test/storage/postgres/pg-schema-statements.test.ts):
 * SQLite's GLOB and json_each do not exist in PostgreSQL, a parameter whose
 * first use is `IS NULL` cannot be typed there, and `LIMIT -1` ("no limit")
 * is refused. Everything else the capability does runs the shared code.
 *
 * The filter keeps the one semantics of storage/key-filter.ts: `*` is the
 * only wildcard and everything else is literal, for the full name and for
 * custom attribute values alike, case-sensitive, a `*` matching newlines
 * too. Here a pattern becomes a LIKE pattern with `\` as its escape (`%`,
 * `_` and `\` escaped, `*` → `%`; PostgreSQL's `%` matches newlines), and
 * the attributes filter JSON of name → LIKE pattern, walked with
 * jsonb_each_text; a key has an attribute only when its value is a JSON
 * string (SQLite's `type = 'text'`). A NULL parameter disables its
 * condition, NULL LIMIT is no limit, and ORDER BY sorts bytewise (the
 * schema's columns are COLLATE "C", as SQLite's BINARY).
 */
import { validateKeyFilter } from '../key-filter';
import { KeyFilter, KeyRecord } from '../records';
import { SqliteKeys } from '../sqlite-keys';
import { KEY_COLUMNS, KeyRow, keyFromRow } from '../sqlite-rows';
import type { PgConnection } from './pg-connection';
import type { PgStatement } from './statement-facade';

export const PG_LIST_KEYS_SQL = `SELECT ${KEY_COLUMNS} FROM keys
  WHERE (CAST(@namespace AS text) IS NULL OR namespace = @namespace)
    AND (CAST(@pattern AS text) IS NULL OR (namespace || '/' || name) LIKE @pattern ESCAPE '\\')
    AND (CAST(@algorithm AS text) IS NULL OR algorithm = @algorithm)
    AND (CAST(@attributes AS jsonb) IS NULL OR NOT EXISTS (SELECT 1 FROM jsonb_each_text(CAST(@attributes AS jsonb)) f
      WHERE NOT EXISTS (SELECT 1 FROM jsonb_each(CAST(keys.custom_attributes AS jsonb)) a
        WHERE a.key = f.key AND jsonb_typeof(a.value) = 'string' AND (a.value #>> '{}') LIKE f.value ESCAPE '\\')))
  ORDER BY namespace, name LIMIT @limit OFFSET @offset`;

/** Our glob (storage/key-filter.ts: only `*` is a wildcard) as a LIKE pattern escaped with `\`. */
export function globToLike(pattern: string): string {
  return pattern.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}

/** The attributes filter as the statement takes it: JSON of name → LIKE pattern, or null for none. */
function attributesToLike(attributes: KeyFilter['attributes']): string | null {
  if (attributes === undefined || Object.keys(attributes).length === 0) return null;
  return JSON.stringify(Object.fromEntries(Object.entries(attributes).map(([name, pattern]) => [name, globToLike(pattern)])));
}

export class PgKeys extends SqliteKeys {
  private readonly listing: PgStatement;

  constructor(private readonly connection: PgConnection) {
    super(connection);
    this.listing = connection.db.prepare(PG_LIST_KEYS_SQL);
  }

  override listKeys(filter: KeyFilter = {}): KeyRecord[] {
    const paging = validateKeyFilter(filter);
    const rows = this.connection.read('listKeys', () =>
      this.listing.all({
        namespace: filter.namespace ?? null,
        pattern: filter.namePattern === undefined ? null : globToLike(filter.namePattern),
        algorithm: filter.algorithm ?? null,
        attributes: attributesToLike(filter.attributes),
        limit: paging.limit,
        offset: paging.offset,
      }) as KeyRow[],
    );
    return rows.map(keyFromRow);
  }
}
