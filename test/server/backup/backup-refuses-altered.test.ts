/**
 * The HSM never vouches for rows the appliance did not write: when the
 * keychain file was altered outside the appliance (a grant deleted, the
 * trust journal emptied to hide it) between two audit checkpoints,
 * BackupCreate checks the snapshot against its trust state before signing,
 * refuses with INTEGRITY_FAILURE, and leaves no backup behind; the refusal
 * is in the audit trail.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestAppliance, TestAppliance } from '../../support/appliance-fixture';
import { editKeychainFile } from '../../support/key-import-support';

describe('backup of an altered keychain file', () => {
  let t: TestAppliance;

  beforeAll(async () => {
    t = await startTestAppliance();
  });

  afterAll(async () => t?.stop());

  it('is refused before signing (INTEGRITY_FAILURE), leaves no file, and is recorded', async () => {
    t.issue('planted-app', 'app');
    const officer = await t.connect(t.officer);
    expect((await officer.request('PolicyGrant', { client: 'planted-app', pattern: 'pay/*', permissions: ['encrypt'] })).error).toBeUndefined();
    expect((await officer.request('BackupCreate', {})).error).toBeUndefined();
    editKeychainFile(t, (db) => {
      expect(db.prepare("DELETE FROM grants WHERE subject = 'planted-app'").run().changes).toBe(1);
      db.prepare('DELETE FROM trust_journal').run();
    });
    const refused = await officer.request('BackupCreate', {});
    expect(refused.error?.code).toBe('INTEGRITY_FAILURE');
    // The first backup only: no second file, not even a staging dot-file.
    expect(readdirSync(join(t.dataDir, 'backups'))).toHaveLength(1);
    const events = ((await officer.request('AuditSearch', { type: 'backup-created' })).result as { events: Array<{ event: { result: string } }> }).events;
    expect(events.map((e) => e.event.result)).toEqual(['ok', 'INTEGRITY_FAILURE']);
  });
});
