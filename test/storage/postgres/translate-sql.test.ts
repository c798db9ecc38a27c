/**
 * The parameter translation for the PostgreSQL facade
 * (storage/postgres/translate-sql.ts), and the inventory of the SQLite
 * keychain SQL (storage/sqlite-rows.ts): every statement translates, and the
 * constructs PostgreSQL lacks or reads differently are exactly the ones
 * listed here, so a statement that gains one is noticed before the
 * PostgreSQL store runs it.
 */
import { SQL } from '../../../storage/sqlite-rows';
import { sqliteOnlyConstructs, SqlTranslationError, translateSql } from '../../../storage/postgres/translate-sql';

describe('translateSql', () => {
  it('numbers ? in order', () => {
    expect(translateSql('SELECT a FROM t WHERE b = ? AND c < ? LIMIT ?')).toEqual({ text: 'SELECT a FROM t WHERE b = $1 AND c < $2 LIMIT $3', names: null, positional: 3 });
  });

  it('gives each distinct @name or :name one $n, reused where the name repeats', () => {
    const t = translateSql('UPDATE t SET a = @a, b = :b WHERE (@a IS NULL OR c = @a)');
    expect(t.text).toBe('UPDATE t SET a = $1, b = $2 WHERE ($1 IS NULL OR c = $1)');
    expect(t.names).toEqual(['a', 'b']);
  });

  it('leaves string literals, quoted identifiers, comments and :: casts alone', () => {
    const sql = `SELECT 'it''s ? @x :y' AS "@odd?", x::text -- what ? @z\n FROM t /* ? :w */ WHERE a = ?`;
    expect(translateSql(sql).text).toBe(`SELECT 'it''s ? @x :y' AS "@odd?", x::text -- what ? @z\n FROM t /* ? :w */ WHERE a = $1`);
  });

  it('quotes unquoted aliases with capitals (PostgreSQL would fold them), and only those', () => {
    expect(translateSql('SELECT key_id AS keyId, name AS name, x as rowMac, y AS "already" FROM t').text).toBe(
      'SELECT key_id AS "keyId", name AS name, x as "rowMac", y AS "already" FROM t',
    );
  });

  it('refuses ?NNN, a mix of ? and names, and unterminated quotes', () => {
    expect(() => translateSql('SELECT ?1')).toThrow(SqlTranslationError);
    expect(() => translateSql('SELECT ? , @a')).toThrow(SqlTranslationError);
    expect(() => translateSql("SELECT 'open")).toThrow(SqlTranslationError);
    expect(() => translateSql('SELECT 1 /* open')).toThrow(SqlTranslationError);
  });
});

/** The inventory (docs/cluster.md): what each statement of sqlite-rows.ts needs beyond translateSql. */
const NEEDS_REWRITE: Readonly<Record<string, readonly string[]>> = {
  listKeys: ['a parameter tested with IS NULL', 'GLOB', 'json_each', 'LIMIT with a negative or caller-chosen value'],
};

describe('the SQLite keychain SQL (storage/sqlite-rows.ts) on PostgreSQL', () => {
  it.each(Object.keys(SQL) as Array<keyof typeof SQL>)('%s translates, and needs exactly the rewrites listed', (name) => {
    const translated = translateSql(SQL[name]);
    expect(translated.text).not.toMatch(/[?@]|(?<!:):[A-Za-z_]/);
    expect(translated.text).not.toMatch(/\bAS [a-z_]*[A-Z]/);
    const found = sqliteOnlyConstructs(SQL[name]);
    const expected = NEEDS_REWRITE[name] ?? [];
    expect(found.length).toBe(expected.length);
    for (const what of expected) expect(found.some((f) => f.startsWith(what))).toBe(true);
  });
});
