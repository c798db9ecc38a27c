/**
 * Every SQLite file the appliance opens is untrusted input: the live
 * keychain (anyone with the data folder's permissions can edit it), a
 * backup's snapshot (an officer uploads one signed by any key they name), a
 * staged copy for a restore. Its schema is part of that input: a view, a
 * trigger, a CHECK or a generated column planted in it runs whenever the
 * appliance's own statements reach it, with this process's functions and
 * virtual tables at hand.
 *
 * So each connection is opened here and told, before any other statement,
 * that its schema is not trusted (PRAGMA trusted_schema = OFF): SQL written
 * in the file may then use only what SQLite marks innocuous; an
 * application-defined function (storage/own-changes.ts) or a virtual table
 * such as the pragma_* table-valued functions, named in a view or trigger
 * of the file, is refused ("unsafe use of ...") instead of called. The
 * setting is checked after it is set, as every pragma of the store is
 * (a pragma SQLite does not take is ignored silently). TEMP objects, which
 * the appliance creates itself on its own connection, stay trusted.
 */
import Database from 'better-sqlite3';
import { StorageError } from '../common/errors';

/** Opens `path` with better-sqlite3 `options`, its schema distrusted before anything else runs on it. */
export function openUntrustedSqlite(path: string, options: Database.Options = {}): Database.Database {
  const db = new Database(path, options);
  try {
    distrustSchema(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function distrustSchema(db: Database.Database): void {
  db.pragma('trusted_schema = OFF');
  const now = db.pragma('trusted_schema', { simple: true }) as unknown;
  if (now !== 0) {
    throw new StorageError('STORAGE_ERROR', 'SQLite: PRAGMA trusted_schema = OFF did not take effect', {
      details: { pragma: 'trusted_schema', expected: 0, actual: typeof now === 'number' ? now : null },
    });
  }
}
