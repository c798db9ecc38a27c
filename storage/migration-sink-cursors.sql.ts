/**
 * Schema 20: where each audit sink stands in the trail (sinks/sink-cursor.ts).
 * One row per sink: the last seq (and its chain hash) the sink delivered or
 * did not want, signed by the HSM signing key. Not a keychain change and not
 * covered by row MACs: the signature is the authentication, and a row that
 * fails it only makes the sink resend (docs/audit-sinks.md).
 */
export const SINK_CURSORS_SQL = `CREATE TABLE audit_sink_cursors (
  sink      TEXT PRIMARY KEY,
  seq       INTEGER NOT NULL CHECK (seq >= 0),
  hash      BLOB NOT NULL,
  saved_at  TEXT NOT NULL,
  signature BLOB NOT NULL
) STRICT;`;
