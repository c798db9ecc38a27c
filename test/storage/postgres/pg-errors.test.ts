/**
 * PostgreSQL's errors map to stable Strongroom codes, as SQLite's do
 * (storage/postgres/pg-errors.ts), say whether the connection must be
 * dropped, and never carry row values: not PostgreSQL's `detail`, not the
 * message of a data exception (it quotes the input).
 */
import { codeForSqlState, mapPgError } from '../../../storage/postgres/pg-errors';

describe('codeForSqlState', () => {
  it.each([
    ['23505', 'STORAGE_ERROR', false],
    ['23503', 'STORAGE_ERROR', false],
    ['40001', 'STORAGE_BUSY', false],
    ['40P01', 'STORAGE_BUSY', false],
    ['55P03', 'STORAGE_BUSY', false],
    ['53100', 'STORAGE_FULL', false],
    ['53300', 'STORAGE_UNAVAILABLE', false],
    ['XX001', 'STORAGE_CORRUPT', false],
    ['25006', 'CLUSTER_NOT_PRIMARY', true],
    ['57P01', 'CLUSTER_NOT_PRIMARY', true],
    ['57P02', 'CLUSTER_NOT_PRIMARY', true],
    ['57P03', 'CLUSTER_NOT_PRIMARY', true],
    ['08006', 'STORAGE_UNAVAILABLE', true],
    ['42P01', 'STORAGE_ERROR', false],
  ])('%s -> %s (drops the connection: %s)', (state, code, drops) => {
    expect(codeForSqlState(state)).toEqual({ code, dropsConnection: drops });
  });
});

describe('mapPgError', () => {
  it('keeps the SQLSTATE, constraint and table of a unique violation, never its detail', () => {
    const err = Object.assign(new Error('duplicate key value violates unique constraint "keys_namespace_name_key"'), {
      code: '23505',
      constraint: 'keys_namespace_name_key',
      table: 'keys',
      detail: 'Key (namespace, name)=(payments, secret-name) already exists.',
    });
    const mapped = mapPgError(err, 'createKey');
    expect(mapped.failure.code).toBe('STORAGE_ERROR');
    expect(mapped.failure.details).toMatchObject({ operation: 'createKey', pgCode: '23505', constraint: 'keys_namespace_name_key', table: 'keys' });
    expect(JSON.stringify(mapped.failure)).not.toContain('secret-name');
  });

  it('drops the message of a data exception (class 22), which quotes the input', () => {
    const err = Object.assign(new Error('invalid input syntax for type integer: "s3cr3t"'), { code: '22P02' });
    expect(JSON.stringify(mapPgError(err, 'x').failure)).not.toContain('s3cr3t');
  });

  it('treats socket errors and a terminated connection as a lost connection', () => {
    for (const err of [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), new Error('Connection terminated unexpectedly')]) {
      const mapped = mapPgError(err, 'query');
      expect(mapped.failure.code).toBe('STORAGE_UNAVAILABLE');
      expect(mapped.dropsConnection).toBe(true);
    }
  });

  it('maps anything else to STORAGE_ERROR and keeps the connection', () => {
    expect(mapPgError(new Error('odd'), 'query')).toMatchObject({ failure: { code: 'STORAGE_ERROR' }, dropsConnection: false });
  });
});
