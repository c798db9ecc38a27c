/**
 * Attack 14: one client or officer plants key material by importing it.
 * Register of an AES, HMAC or ChaCha20 key with the caller's bytes was
 * refused outright (CALLER_MATERIAL_REFUSED); now that it is a supported
 * key import, the attacker holds the `register` permission and tries to
 * get their bytes in alone: as an app with a grant, as an officer (who
 * holds `register` by role) approving their own request, or with one
 * accomplice's approval short of the quorum.
 *
 * The rule (operations/key-import.ts): such a Register is a `key-import`
 * approval request, checked for the `register` permission first; nothing
 * exists until M officers other than the requester approved it. Runs over
 * real mTLS, on a SoftHSM2 token and a SQLite keychain.
 */
import { randomBytes } from 'node:crypto';
import { Credentials, RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { ImportDetails } from '../support/key-import-support';

const material = randomBytes(32);

function importRequest(res: { error?: { code: string; details?: unknown } }): ImportDetails {
  expect(res.error?.code).toBe('APPROVAL_REQUIRED');
  const details = res.error?.details as unknown as ImportDetails;
  expect(details.class).toBe('key-import');
  return details;
}

describe('attack 14: a single client or officer imports key material', () => {
  let app: TestAppliance;
  let importer: Credentials;
  let outsider: Credentials;
  let officer: RawConnection;
  let first: RawConnection;
  let second: RawConnection;

  beforeAll(async () => {
    app = await startTestAppliance({ clear_key_import: 'dual-control' });
    importer = app.issue('importer-app', 'app');
    outsider = app.issue('outsider-app', 'app');
    officer = await app.connect(app.officer);
    first = await app.connect(app.approvers[0]);
    second = await app.connect(app.approvers[1]);
    expect((await officer.request('PolicyGrant', { client: 'importer-app', pattern: 'pay/*', permissions: ['register', 'get-attributes'] })).error).toBeUndefined();
  });

  afterAll(async () => app.stop());

  const exists = async (name: string): Promise<boolean> => {
    const res = await officer.request('GetAttributes', { name });
    if (res.error?.code === 'KEY_NOT_FOUND') return false;
    expect(res.error).toBeUndefined();
    return true;
  };

  it('holds an app\'s AES import until two other officers approve it; the app cannot approve, and nothing exists before', async () => {
    const app1 = await app.connect(importer);
    const asked = importRequest(await app1.request('Register', { name: 'pay/zmk', algorithm: 'AES-256', material: material.toString('base64') }));
    expect(await exists('pay/zmk')).toBe(false);
    expect((await app1.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('PERMISSION_DENIED');
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).result).toMatchObject({ request: { state: 'pending', approvals: 1 } });
    expect(await exists('pay/zmk')).toBe(false);
    expect((await second.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).result).toMatchObject({ request: { state: 'executed' } });
    expect(await exists('pay/zmk')).toBe(true);
  });

  it('refuses an officer approving their own import, and one other officer is not enough', async () => {
    const asked = importRequest(await officer.request('Register', { name: 'ops/planted', algorithm: 'HMAC-SHA256', material: material.toString('base64') }));
    expect((await officer.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).error?.code).toBe('APPROVAL_SELF_APPROVAL');
    expect((await first.request('ApprovalApprove', { id: asked.requestId, digest: asked.digest })).result).toMatchObject({ request: { state: 'pending', approvals: 1 } });
    expect(await exists('ops/planted')).toBe(false);
    expect((await officer.request('ApprovalCancel', { id: asked.requestId })).error).toBeUndefined();
    expect(await exists('ops/planted')).toBe(false);
  });

  it('checks the register permission before storing anything: a client without it gets PERMISSION_DENIED and no request', async () => {
    const before = ((await officer.request('ApprovalList', {})).result as { requests: unknown[] }).requests.length;
    const res = await (await app.connect(outsider)).request('Register', { name: 'pay/outsider', algorithm: 'AES-128', material: material.subarray(0, 16).toString('base64') });
    expect(res.error?.code).toBe('PERMISSION_DENIED');
    expect(((await officer.request('ApprovalList', {})).result as { requests: unknown[] }).requests.length).toBe(before);
  });

  it('refuses at once what could only fail after approval: a wrong length, a name already taken', async () => {
    const app1 = await app.connect(importer);
    expect((await app1.request('Register', { name: 'pay/short', algorithm: 'AES-256', material: material.subarray(0, 16).toString('base64') })).error?.code).toBe('INVALID_ARGUMENT');
    expect((await app1.request('Register', { name: 'pay/zmk', algorithm: 'AES-256', material: material.toString('base64') })).error?.code).toBe('KEY_EXISTS');
  });

  it('still refuses ReKey with material of a generated algorithm (CALLER_MATERIAL_REFUSED): only Register imports', async () => {
    expect((await officer.request('Create', { name: 'ops/rolled', algorithm: 'AES-256' })).error).toBeUndefined();
    expect((await officer.request('ReKey', { name: 'ops/rolled', material: material.toString('base64') })).error?.code).toBe('CALLER_MATERIAL_REFUSED');
  });
});
