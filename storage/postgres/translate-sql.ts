/**
 * Rewrites the parameters of a better-sqlite3 statement for PostgreSQL, so
 * that SQL written for SQLite's capability files can be prepared on the
 * synchronous bridge (statement-facade.ts):
 *
 * - `?` → `$1, $2, …` in order; `?NNN` is refused;
 * - `@name` and `:name` → one `$n` per distinct name (a name used twice is
 *   bound once, as SQLite does); the statement then takes one object;
 * - a statement mixing both is refused (better-sqlite3 allows it; the
 *   keychain's SQL never does);
 * - an unquoted alias with capitals after AS (`AS keyId`) is quoted
 *   (`AS "keyId"`): PostgreSQL folds unquoted names to lower case, so rows
 *   would come back with `keyid` where the records expect `keyId`.
 *
 * Nothing inside string literals, quoted identifiers or comments is touched,
 * nor PostgreSQL's `::` casts. This translates parameters and aliases only;
 * what SQLite means differently (GLOB, json_each, INSERT OR IGNORE, LIMIT -1,
 * collation, NULL ordering) is listed by sqliteOnlyConstructs for a person
 * to rewrite.
 */

export interface TranslatedSql {
  /** The statement with `$n` parameters. */
  readonly text: string;
  /** Named parameters in `$n` order (n = index + 1), or null for a positional statement. */
  readonly names: readonly string[] | null;
  /** How many `?` parameters (0 for a named statement). */
  readonly positional: number;
}

export class SqlTranslationError extends Error {}

const WORD_START = /[A-Za-z_]/;
const WORD = /[A-Za-z0-9_]/;

export function translateSql(sql: string): TranslatedSql {
  let out = '';
  let positional = 0;
  const names: string[] = [];
  let previousWord = '';
  let i = 0;
  const readWord = (from: number): string => {
    let end = from;
    while (end < sql.length && WORD.test(sql[end])) end++;
    return sql.slice(from, end);
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1] ?? '';
    if (c === "'" || c === '"') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
      previousWord = '';
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw new SqlTranslationError('unterminated /* comment');
      out += sql.slice(i, end + 2);
      i = end + 2;
    } else if (c === '?') {
      if (/[0-9]/.test(next)) throw new SqlTranslationError('numbered ?NNN parameters are not supported: use ? or @name');
      positional++;
      out += `$${positional}`;
      i++;
      previousWord = '';
    } else if ((c === '@' || (c === ':' && sql[i - 1] !== ':' && next !== ':')) && WORD_START.test(next)) {
      const name = readWord(i + 1);
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      out += `$${index + 1}`;
      i += 1 + name.length;
      previousWord = '';
    } else if (WORD_START.test(c)) {
      const word = readWord(i);
      out += previousWord.toUpperCase() === 'AS' && /[A-Z]/.test(word) ? `"${word}"` : word;
      previousWord = word;
      i += word.length;
    } else {
      out += c;
      if (!/\s/.test(c)) previousWord = '';
      i++;
    }
  }
  if (positional > 0 && names.length > 0) throw new SqlTranslationError('a statement mixes ? and named parameters');
  return { text: out, names: names.length > 0 ? names : null, positional };
}

/** Index just past the quote that closes the one at `start` (a doubled quote is an escaped one). */
function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  throw new SqlTranslationError(`unterminated ${quote === "'" ? 'string literal' : 'quoted identifier'}`);
}

/** SQLite constructs that PostgreSQL lacks or reads differently, each with what to write instead. */
const SQLITE_ONLY: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bGLOB\b/i, 'GLOB: PostgreSQL has none; LIKE with an escaped pattern (glob * ? → % _) or ~ with an anchored regex'],
  [/\bjson_each\s*\(/i, 'json_each (key, value, type): jsonb_each_text(col::jsonb) with jsonb_typeof for the type'],
  [/\bjson_(?:extract|array|object|group_array|group_object)\s*\(/i, 'SQLite json_* function: the jsonb operators (->, ->>, jsonb_build_*)'],
  [/\bINSERT\s+OR\s+(?:IGNORE|REPLACE)\b/i, 'INSERT OR IGNORE / REPLACE: INSERT … ON CONFLICT DO NOTHING / DO UPDATE'],
  [/\bREPLACE\s+INTO\b/i, 'REPLACE INTO: INSERT … ON CONFLICT DO UPDATE'],
  [/[@:][A-Za-z_]\w*\s+IS\s+(?:NOT\s+)?NULL/i, 'a parameter tested with IS NULL: when that is its first use PostgreSQL cannot type it (42P08); write CAST(@x AS text) IS NULL'],
  [/\bLIMIT\s+(?:-\d+|[@:][A-Za-z_])/i, 'LIMIT with a negative or caller-chosen value (SQLite: -1 = no limit): PostgreSQL refuses a negative LIMIT; bind NULL for no limit'],
  [/\b(?:IFNULL|INSTR|SUBSTR|PRINTF|TOTAL|GROUP_CONCAT)\s*\(/i, 'SQLite function: COALESCE, strpos, substring, format, sum, string_agg'],
  [/\b(?:datetime|strftime|julianday|unixepoch)\s*\(/i, 'SQLite date function: PostgreSQL date/time functions (the store keeps ISO text: compare text)'],
  [/\b(?:rowid|_rowid_|oid)\b/i, 'rowid: an explicit key column (or a RETURNING clause instead of lastInsertRowid)'],
  [/\bAUTOINCREMENT\b/i, 'AUTOINCREMENT: GENERATED … AS IDENTITY'],
  [/\bPRAGMA\b/i, 'PRAGMA: no equivalent statement (settings, catalog queries)'],
  [/\bWITHOUT\s+ROWID\b/i, 'WITHOUT ROWID: drop it'],
  [/\bBEGIN\s+(?:IMMEDIATE|EXCLUSIVE|DEFERRED)\b/i, 'BEGIN IMMEDIATE/EXCLUSIVE: the bridge begin(write) (writer lock)'],
  [/\bCOLLATE\s+NOCASE\b/i, 'COLLATE NOCASE: lower() on both sides, or citext'],
];

/** What in `sql` needs a rewrite for PostgreSQL beyond translateSql (empty: runs as translated). */
export function sqliteOnlyConstructs(sql: string): string[] {
  return SQLITE_ONLY.filter(([pattern]) => pattern.test(sql)).map(([, what]) => what);
}
