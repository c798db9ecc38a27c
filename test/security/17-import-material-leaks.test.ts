/**
 * Attack 17: learn an imported key from what the appliance says about its
 * import. The material, or the sealed blob that stands for it, could leak
 * through an approval view (ApprovalGet, ApprovalList: what every officer
 * and the auditors read), the live event stream, an audit event, an error
 * message, or the operational log.
 *
 * The rule: approval views show a key import's name, algorithm, length and
 * key check value, never its material or sealed blob
 * (domain/approvals/sealed-args.ts); audit events carry the request's id,
 * class, digest and (for an import) nothing of its arguments; messages name
 * fields, never values.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '../../common/logger';
import { LiveEvent } from '../../domain/events/event-bus';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { auditEventTexts, encodingsOf, ImportDetails, storedArgs } from '../support/key-import-support';

const lines: string[] = [];
function recordingLogger(): Logger {
  const at = (level: string) => (message: unknown, meta?: unknown) => {
    lines.push(`${level} ${String(message)} ${JSON.stringify(meta ?? {})}`);
    return logger as never;
  };
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as Logger;
  return logger;
}

describe('attack 17: the material of an import, read from views, events, errors and logs', () => {
  let app: TestAppliance;
  let officer: RawConnection;
  let auditor: RawConnection;
  const events: LiveEvent[] = [];
  const material = randomBytes(32);
  const said: string[] = [];
  let sealedBlob = '';

  beforeAll(async () => {
    app = await startTestAppliance({ clear_key_import: 'dual-control' }, { log: recordingLogger() });
    app.server.services.events.subscribe((e) => events.push(e));
    officer = await app.connect(app.officer);
    auditor = await app.connect(app.issue('the-auditor', 'auditor'));
  });

  afterAll(async () => app.stop());

  it('shows approvers the name, algorithm, length and key check value, and nothing of the material anywhere', async () => {
    const asked = await officer.request('Register', { name: 'vault/kcv', algorithm: 'AES-256', material: material.toString('base64') });
    said.push(JSON.stringify(asked));
    const details = asked.error?.details as unknown as ImportDetails;
    sealedBlob = (storedArgs(app, details.requestId).sealedMaterial as { sealed: string }).sealed;
    const shown = await (await app.connect(app.approvers[0])).request('ApprovalGet', { id: details.requestId });
    said.push(JSON.stringify(shown), JSON.stringify(await auditor.request('ApprovalList', {})), JSON.stringify(await officer.request('ApprovalList', {})));
    const args = (shown.result as { request: { args: Record<string, unknown> } }).request.args;
    expect(args).toEqual({ name: 'vault/kcv', algorithm: 'AES-256', materialLength: 32, kcv: expect.stringMatching(/^[0-9A-F]{10}$/), kcvKind: 'AES-CMAC' });
    // A second, bad request: its refusal message says why without the bytes.
    said.push(JSON.stringify(await officer.request('Register', { name: 'vault/kcv-short', algorithm: 'AES-256', material: material.subarray(0, 31).toString('base64') })));
    const approved = await app.approve(asked);
    said.push(JSON.stringify(approved));
    expect(approved.state).toBe('executed');
  });

  it.each([
    ['the answers (views, errors, results)', () => said],
    ['the audit trail', () => auditEventTexts(app)],
    ['the live events', () => events.map((e) => JSON.stringify(e))],
    ['the operational log', () => lines],
  ])('leaves the material and the sealed blob out of %s', (_where, texts: () => string[]) => {
    const all = texts().join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const { label, bytes } of encodingsOf(material)) expect({ label, found: all.includes(bytes.toString('latin1')) }).toEqual({ label, found: false });
    expect(sealedBlob.length).toBeGreaterThan(40);
    expect(all.includes(sealedBlob)).toBe(false);
  });
});
