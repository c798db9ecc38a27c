/**
 * Schema 20: the due-work indexes in the order the sweeps read them. Each
 * sweep lists "due at or before now ORDER BY date, id LIMIT n"; indexed by
 * the date alone (the tables are not in rowid order of id), SQLite read every
 * due row and sorted them for each batch, so 100,000 keys due at one
 * midnight made every batch of the rollover sweep read 100,000 rows (a
 * quadratic sweep: 29 s of a 20,000-key sweep's server time went to it).
 * With id in the index the scan is already in order and stops at the limit.
 */
export const DUE_INDEXES_SQL = `
DROP INDEX keys_by_next_rollover;
CREATE INDEX keys_by_next_rollover ON keys (next_rollover_at, id) WHERE next_rollover_at IS NOT NULL;
DROP INDEX key_instances_by_destroy_at;
CREATE INDEX key_instances_by_destroy_at ON key_instances (destroy_at, id) WHERE destroy_at IS NOT NULL;
DROP INDEX key_instances_by_process_stop;
CREATE INDEX key_instances_by_process_stop ON key_instances (process_stop_at, id) WHERE process_stop_at IS NOT NULL AND state = 'Active';
DROP INDEX key_instances_by_activation_date;
CREATE INDEX key_instances_by_activation_date ON key_instances (activated_at, id) WHERE state = 'PreActive' AND activated_at IS NOT NULL;
`;
