/**
 * The storage settings (common/storage-settings.ts) as loadConfig checks
 * them, and the PostgreSQL password file's rules
 * (storage/postgres/pg-password-file.ts). The appliance opening on
 * PostgreSQL with them is test/integration/appliance-on-postgres.test.ts.
 */
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../common/config';
import { postgresTarget, primarySearchMs } from '../../common/storage-settings';
import { readPostgresPassword } from '../../storage/postgres/pg-password-file';
import { codeOf, NO_ERROR } from '../support/error-code';

describe('storage settings', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'strongroom-storage-settings-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (flags: Record<string, string>) => loadConfig({ dataDir: dir, env: {}, flags });
  const postgres = (flags: Record<string, string> = {}) => load({ storage: 'postgres', postgres_server: 'db.example:5432', ...flags });

  it('defaults to sqlite, ignoring the postgres_* settings', () => {
    const config = load({});
    expect(config.values.storage).toBe('sqlite');
    expect(config.values.cluster_destroy).toBeNull();
    expect(config.values.postgres_password_file).toBe(join(dir, 'postgres-password'));
    expect(codeOf(() => load({ storage: 'mysql' }))).toBe('CONFIG_INVALID');
  });

  it('takes one server or a Patroni node list, exactly one of the two', () => {
    expect(postgresTarget(postgres().values)).toEqual({ kind: 'direct', host: 'db.example', port: 5432 });
    const patroni = load({ storage: 'postgres', postgres_patroni: 'pg1=10.0.0.1:8008/10.0.0.1:5432, pg2=[::1]:8009/[::1]:5433' });
    expect(postgresTarget(patroni.values)).toEqual({
      kind: 'patroni',
      nodes: [
        { name: 'pg1', rest: { host: '10.0.0.1', port: 8008 }, postgres: { host: '10.0.0.1', port: 5432 } },
        { name: 'pg2', rest: { host: '::1', port: 8009 }, postgres: { host: '::1', port: 5433 } },
      ],
    });
    expect(codeOf(() => load({ storage: 'postgres' }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => postgres({ postgres_patroni: 'pg1=a:1/b:2' }))).toBe('CONFIG_INVALID');
    for (const bad of ['db.example', 'db.example:0', 'db.example:65536', 'db example:5432']) {
      expect(codeOf(() => postgres({ postgres_server: bad }))).toBe('CONFIG_INVALID');
    }
    for (const bad of ['pg1=a:1', 'pg1=a:1/b:2, pg1=c:3/d:4', 'a:1/b:2', ',']) {
      expect(codeOf(() => load({ storage: 'postgres', postgres_patroni: bad }))).toBe('CONFIG_INVALID');
    }
  });

  it('takes logical as the only cluster_destroy, and no backup schedule on postgres', () => {
    expect(postgres({ cluster_destroy: 'logical' }).values.cluster_destroy).toBe('logical');
    expect(codeOf(() => postgres({ cluster_destroy: 'yes' }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => postgres({ backup_schedule: 'P1D' }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => load({ backup_schedule: 'P1D' }))).toBe(NO_ERROR);
  });

  it("bounds the search for the primary: 5 s by default, a whole number of ms from 1 s to 120 s", () => {
    expect(primarySearchMs(postgres().values)).toBe(5_000);
    expect(primarySearchMs(postgres({ postgres_primary_search_ms: '25000' }).values)).toBe(25_000);
    for (const bad of ['999', '120001', '5s', '', '-1', '1e4']) {
      expect([bad, codeOf(() => postgres({ postgres_primary_search_ms: bad }))]).toEqual([bad, 'CONFIG_INVALID']);
    }
  });

  it('reads the password file only when it is private, regular and not empty', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'secret-1\nignored\n', { mode: 0o600 });
    expect(readPostgresPassword(file)).toBe('secret-1');
    chmodSync(file, 0o640);
    expect(codeOf(() => readPostgresPassword(file))).toBe('CONFIG_INVALID');
    chmodSync(file, 0o600);
    const link = join(dir, 'link');
    symlinkSync(file, link);
    expect(codeOf(() => readPostgresPassword(link))).toBe('CONFIG_INVALID');
    writeFileSync(join(dir, 'empty'), '\n', { mode: 0o600 });
    expect(codeOf(() => readPostgresPassword(join(dir, 'empty')))).toBe('CONFIG_INVALID');
    expect(codeOf(() => readPostgresPassword(join(dir, 'absent')))).toBe('CONFIG_INVALID');
  });
});
