/**
 * Attack 15: read an imported key out of the database while it waits for
 * approval. The approval record stores the request's arguments in the
 * keychain file; stored as they came, a key import's would hold the
 * material (in the file, its WAL, or a later backup) for anyone who can
 * read the file, before any officer approved anything, and after.
 *
 * The rule (operations/key-import.ts, domain/keys/import-seal.ts): the
 * record holds the material sealed under the keychain key, bound to the
 * request, beside its key check value; the sealed blob is erased from the
 * record when the request runs or ends any other way. The attacker scans
 * every file of the data folder (the SQLite file, its WAL, its shared
 * memory) for the key's bytes, hex and base64, at each stage.
 */
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../common/clock';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { encodingsOf, filesHolding, ImportDetails, storedArgs } from '../support/key-import-support';

describe('attack 15: the material of a pending import, read from the database file', () => {
  const clock = new ManualClock(Date.now());
  let app: TestAppliance;
  let officer: RawConnection;

  beforeAll(async () => {
    app = await startTestAppliance({ clear_key_import: 'dual-control' }, { clock });
    officer = await app.connect(app.officer);
  });

  afterAll(async () => app.stop());

  async function importKey(name: string, material: Buffer): Promise<ImportDetails> {
    const res = await officer.request('Register', { name, algorithm: `AES-${material.length * 8}`, material: material.toString('base64') });
    expect(res.error?.code).toBe('APPROVAL_REQUIRED');
    return res.error?.details as unknown as ImportDetails;
  }

  const sealedIn = (id: string): boolean => 'sealedMaterial' in storedArgs(app, id);

  it('keeps the material out of every file while the request waits, and out of the record once it ran', async () => {
    const material = randomBytes(32);
    const asked = await importKey('vault/ran', material);
    expect(filesHolding(app.dataDir, encodingsOf(material))).toEqual([]);
    expect(sealedIn(asked.requestId)).toBe(true);
    expect((await app.approve({ id: 1, error: { code: 'APPROVAL_REQUIRED', message: '', details: asked as never } })).state).toBe('executed');
    expect(sealedIn(asked.requestId)).toBe(false);
    expect(storedArgs(app, asked.requestId)).toMatchObject({ name: 'vault/ran', kcv: expect.stringMatching(/^[0-9A-F]{10}$/), kcvKind: 'AES-CMAC', materialLength: 32 });
    expect(filesHolding(app.dataDir, encodingsOf(material))).toEqual([]);
  });

  it('erases the sealed blob from a denied request, and a cancelled one', async () => {
    const denied = randomBytes(16);
    const cancelled = randomBytes(24);
    const one = await importKey('vault/denied', denied);
    const two = await importKey('vault/cancelled', cancelled);
    expect((await (await app.connect(app.approvers[0])).request('ApprovalDeny', { id: one.requestId, reason: 'custodian KCV differs' })).error).toBeUndefined();
    expect((await officer.request('ApprovalCancel', { id: two.requestId })).error).toBeUndefined();
    expect([sealedIn(one.requestId), sealedIn(two.requestId)]).toEqual([false, false]);
    expect(filesHolding(app.dataDir, [...encodingsOf(denied), ...encodingsOf(cancelled)])).toEqual([]);
    expect((await officer.request('GetAttributes', { name: 'vault/denied' })).error?.code).toBe('KEY_NOT_FOUND');
  });

  it('erases the sealed blob from an expired request', async () => {
    const material = randomBytes(32);
    const asked = await importKey('vault/expired', material);
    clock.advance(24 * 3_600_000 + 1000);
    // Any approval call expires what is due.
    expect((await officer.request('ApprovalGet', { id: asked.requestId })).result).toMatchObject({ request: { state: 'expired' } });
    expect(sealedIn(asked.requestId)).toBe(false);
    expect(filesHolding(app.dataDir, encodingsOf(material))).toEqual([]);
    expect((await officer.request('GetAttributes', { name: 'vault/expired' })).error?.code).toBe('KEY_NOT_FOUND');
  });
});
