/**
 * Attack 18: hiding that a key's material was served, or serving a key its
 * creator made sensitive. Fresh (KMIP) tells a client that no one has
 * obtained an instance's material yet; someone who obtained it and can
 * write the database file would set the flag back, so the next client
 * takes the key for unshared. Sensitive keeps a key's material inside the
 * appliance; clearing it in the file would let a Get carry it out.
 *
 * The rule (domain/row-mac.ts): both flags are under their row's MAC, each
 * in it only when it differs from the value rows had before it existed, so
 * an edit either way makes the row fail authentication: the appliance
 * answers INTEGRITY_FAILURE, never the forged flag and never the material.
 * Against a real server, SoftHSM2 token and SQLite file, which the attacker
 * edits with SQL (bumping the change counter so that caches reload).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { KmipTlsClient } from '../../scripts/kmip/kmip-tls-client';
import { parseKmipXml } from '../../protocol/kmip/kmip-xml';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';

jest.setTimeout(90_000);

/** Runs SQL on the live keychain file as an attacker with write access to it would. */
function editFile(app: TestAppliance, sql: string, ...params: unknown[]): void {
  const db = new Database(join(app.dataDir, 'keychain.db'));
  try {
    db.prepare(sql).run(...params);
    db.prepare('UPDATE keychain_changes SET counter = counter + 1').run();
  } finally {
    db.close();
  }
}

/** Any write of the appliance moves its change stamp: its caches read the edited rows again (what the attacker waits for). */
async function applianceWrites(app: TestAppliance, name: string): Promise<void> {
  const officer = await app.connect(app.officer);
  try {
    expect((await officer.request('Create', { name, algorithm: 'AES-128' })).error).toBeUndefined();
  } finally {
    officer.destroy();
  }
}

describe('attack 18: the Fresh and Sensitive flags edited in the database file', () => {
  let app: TestAppliance;
  let reader: Credentials;
  let conn: RawConnection;

  beforeEach(async () => {
    app = await startTestAppliance();
    reader = app.issue('payroll-app', 'app');
    const officer = await app.connect(app.officer);
    expect((await officer.request('Create', { name: 'hr/payroll', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await officer.request('Create', { name: 'hr/vault', algorithm: 'AES-256', sensitive: true })).error).toBeUndefined();
    const grant = await officer.request('PolicyGrant', { client: 'payroll-app', pattern: 'hr/*', permissions: ['get', 'get-attributes'] });
    expect((await app.approve(grant)).state).toBe('executed');
    officer.destroy();
    conn = await app.connect(reader);
  });

  afterEach(async () => {
    conn?.destroy();
    await app.stop();
  });

  it('a served instance set back to Fresh in the file is refused on both wires, never reported fresh', async () => {
    const got = await conn.request('Get', { name: 'hr/payroll' });
    const instance = (got.result as { instance: { name: string; fresh: boolean } }).instance;
    expect(instance.fresh).toBe(false);
    editFile(app, 'UPDATE key_instances SET fresh = 1 WHERE name = ?', instance.name);
    await applianceWrites(app, 'hr/other');
    const native = await conn.request('GetAttributes', { instance: instance.name });
    expect(native.result).toBeUndefined();
    expect(native.error?.code).toBe('INTEGRITY_FAILURE');
    const kmip = await KmipTlsClient.open(app.server.kmipPort!, reader);
    try {
      const asked = parseKmipXml(`<RequestPayload><UniqueIdentifier type="TextString" value="${instance.name}"/><AttributeReference type="Enumeration" value="Fresh"/></RequestPayload>`);
      const answer = (await kmip.call('GetAttributes', asked, { major: 2, minor: 1 })).batchItems[0];
      expect(answer.resultStatus).toBe('OperationFailed');
      expect(answer.resultMessage).toMatch(/^INTEGRITY_FAILURE/);
    } finally {
      kmip.destroy();
    }
  });

  it('a sensitive key made non-sensitive in the file gives out no material', async () => {
    expect((await conn.request('Get', { name: 'hr/vault' })).error?.code).toBe('SENSITIVE');
    editFile(app, "UPDATE keys SET sensitive = 0 WHERE namespace = 'hr' AND name = 'vault'");
    await applianceWrites(app, 'hr/other');
    const res = await conn.request('Get', { name: 'hr/vault' });
    expect(res.result).toBeUndefined();
    expect(res.error?.code).toBe('INTEGRITY_FAILURE');
  });
});
