/**
 * The type parsers the bridge's connections use, set explicitly per client
 * (never through pg's process-wide `types.setTypeParser`), so that rows look
 * the way the SQLite capability code expects them from better-sqlite3:
 *
 * - int8 (count(*), sum() of integers, BIGINT columns) → number when it is a
 *   safe integer, else bigint: never a silently rounded number, never the
 *   string pg answers by default;
 * - int2/int4 → number, float4/float8 → number (pg's defaults);
 * - bool → boolean (pg's default; the SQLite schema keeps flags as 0/1
 *   INTEGER, which stays a number);
 * - bytea → Buffer (pg's default parser, named here so that it is a choice);
 * - numeric → string (exact; the schema has no NUMERIC, and a JS number
 *   would round);
 * - timestamp, timestamptz, date, json, jsonb → the text PostgreSQL sent:
 *   the records keep ISO-8601 strings and JSON text, and parse them
 *   themselves (a Date would lose the string form the row MAC covers).
 */
import { CustomTypesConfig, types } from 'pg';

/** PostgreSQL type OIDs (pg_type.oid; stable across versions). */
export const PG_OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  json: 114,
  float4: 700,
  float8: 701,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  jsonb: 3802,
} as const;

/** int8 text → number when safe, else bigint (exact either way). */
export function parseInt8(text: string): number | bigint {
  const big = BigInt(text);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

const asText = (text: string): string => text;
const TEXT_KEPT: ReadonlySet<number> = new Set([PG_OID.numeric, PG_OID.timestamp, PG_OID.timestamptz, PG_OID.date, PG_OID.json, PG_OID.jsonb]);

/** The `types` option of every bridge connection (text format only: the bridge never asks for binary results). */
export const BRIDGE_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return types.getTypeParser(oid, 'binary');
    if (oid === PG_OID.int8) return parseInt8;
    if (TEXT_KEPT.has(oid)) return asText;
    // bool, bytea, int2, int4, float4, float8 and everything else: pg's own text parsers.
    return types.getTypeParser(oid, 'text');
  }) as CustomTypesConfig['getTypeParser'],
};
