/**
 * Attack 16: edit a pending key import in the database file. An attacker
 * with write access to the file flips bytes of a request's sealed material
 * (hoping to register a key related to the approved one), or moves the
 * sealed material of one import into another request (so that officers
 * approve one key check value and another key is registered).
 *
 * The rule: the request's row is authenticated (domain/trust/ row MAC over
 * its arguments), and the sealed material is itself bound by its GCM AAD to
 * the request id, requester, name, algorithm and key check value
 * (domain/keys/import-seal.ts; test/domain/keys/key-import-seal.test.ts
 * moves it past the row MAC). Either edit fails closed: INTEGRITY_FAILURE
 * naming the request, and no key is registered.
 */
import { randomBytes } from 'node:crypto';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { editKeychainFile, ImportDetails, storedArgs } from '../support/key-import-support';

type Sealed = { sealVersion: number; sealed: string };

describe('attack 16: the sealed material of a pending import, edited in the database file', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let approvers: RawConnection[];

  beforeEach(async () => {
    app = await startTestAppliance({ clear_key_import: 'dual-control' });
    officer = await app.connect(app.officer);
    approvers = [await app.connect(app.approvers[0]), await app.connect(app.approvers[1])];
  });

  afterEach(async () => app.stop());

  async function importKey(name: string): Promise<ImportDetails> {
    const res = await officer.request('Register', { name, algorithm: 'AES-256', material: randomBytes(32).toString('base64') });
    expect(res.error?.code).toBe('APPROVAL_REQUIRED');
    return res.error?.details as unknown as ImportDetails;
  }

  function rewriteArgs(id: string, change: (args: Record<string, unknown>) => Record<string, unknown>): void {
    const args = change(storedArgs(app, id));
    editKeychainFile(app, (db) => db.prepare('UPDATE approval_requests SET args = ? WHERE id = ?').run(JSON.stringify(args), id));
  }

  /** Both officers approve; the first approval already reads the edited row. */
  async function approveFails(asked: ImportDetails): Promise<void> {
    for (const approver of approvers) {
      const res = await approver.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest });
      expect(res.result).toBeUndefined();
      expect(res.error?.code).toBe('INTEGRITY_FAILURE');
      expect(res.error?.message).toContain(asked.requestId);
    }
  }

  it('refuses an import whose sealed material had a byte flipped, and registers nothing', async () => {
    const asked = await importKey('vault/flipped');
    rewriteArgs(asked.requestId, (args) => {
      const sealed = args.sealedMaterial as Sealed;
      const bytes = Buffer.from(sealed.sealed, 'base64');
      bytes[bytes.length - 20] ^= 0x01;
      return { ...args, sealedMaterial: { ...sealed, sealed: bytes.toString('base64') } };
    });
    await approveFails(asked);
    expect((await officer.request('GetAttributes', { name: 'vault/flipped' })).error?.code).toBe('KEY_NOT_FOUND');
  });

  it('refuses an import into which another request\'s sealed material was moved, with its key check value, and registers neither', async () => {
    const source = await importKey('vault/source');
    const target = await importKey('vault/target');
    const moved = storedArgs(app, source.requestId);
    rewriteArgs(target.requestId, (args) => ({ ...args, sealedMaterial: moved.sealedMaterial, kcv: moved.kcv }));
    await approveFails(target);
    for (const name of ['vault/source', 'vault/target']) expect((await officer.request('GetAttributes', { name })).error?.code).toBe('KEY_NOT_FOUND');
  });
});
