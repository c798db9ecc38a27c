/**
 * Attack 31: learn a key, or the bytes that stand for it, from what the
 * appliance keeps and says about a wrapped export or import (BYOK). The
 * clear material of an exported key, the wrapped bytes the requester
 * collected (under an appliance AES key they are as good as the material to
 * anyone who can unwrap them with it), and the clear material of a wrapped
 * import could leak through the approval record (the collect's result is
 * stored with the request), the audit trail, the live events, the
 * operational log, or a file in the data folder (the keychain, its WAL).
 *
 * The rule: an export's result is given to its requester only and stored as
 * "[binary withheld]" (approval-view storableResult); the trail records the
 * key, the instance and the wrapping key's name or fingerprint, never
 * bytes; an import's unwrapped material is only ever stored sealed, and
 * erased from the request when it ends.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '../../common/logger';
import { LiveEvent } from '../../domain/events/event-bus';
import { required } from '../support/approval-required';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { approveAndCollect, collected, kwpWrap, rsaPair } from '../support/byok-support';
import { auditEventTexts, encodingsOf, filesHolding } from '../support/key-import-support';

const lines: string[] = [];
function recordingLogger(): Logger {
  const at = (level: string) => (message: unknown, meta?: unknown) => {
    lines.push(`${level} ${String(message)} ${JSON.stringify(meta ?? {})}`);
    return logger as never;
  };
  const logger: Logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as Logger;
  return logger;
}

describe('attack 31: a wrapped export\'s or import\'s bytes, read from records, events, logs and files', () => {
  let t: TestAppliance;
  let officer: RawConnection;
  const events: LiveEvent[] = [];
  const secrets: Array<{ what: string; bytes: Buffer }> = [];
  const exportIds: string[] = [];

  beforeAll(async () => {
    t = await startTestAppliance({}, { log: recordingLogger() });
    t.server.services.events.subscribe((e) => events.push(e));
    officer = await t.connect(t.officer);
    for (const name of ['leak/data', 'leak/kek']) expect((await officer.request('Create', { name })).error).toBeUndefined();
    expect((await t.approve(await officer.request('PolicyGrant', { client: 'test-officer', pattern: 'leak/kek', permissions: ['encrypt', 'decrypt', 'get'] }))).state).toBe('executed');
    const kekGot = await officer.request('Get', { name: 'leak/kek' });
    const kek = Buffer.from((kekGot.result as { material: string }).material, 'base64');

    const receiver = rsaPair();
    const rsaAsked = await officer.request('Export', { name: 'leak/data', wrapMethod: 'RSA-OAEP-SHA256', wrapPublicKey: receiver.publicPem });
    exportIds.push(required(rsaAsked).requestId);
    secrets.push({ what: 'the RSA-wrapped export', bytes: collected(await approveAndCollect(t, officer, rsaAsked)).wrapped });
    const aesAsked = await officer.request('Export', { name: 'leak/data', wrapMethod: 'AES-KWP', wrapKey: 'leak/kek' });
    exportIds.push(required(aesAsked).requestId);
    const aesWrapped = collected(await approveAndCollect(t, officer, aesAsked)).wrapped;
    secrets.push({ what: 'the AES-wrapped export', bytes: aesWrapped });
    secrets.push({ what: 'the exported material', bytes: t.appliance.keychain.getKey({ fullName: 'leak/data' }).material });

    const imported = randomBytes(32);
    secrets.push({ what: 'the imported material', bytes: imported });
    expect((await t.approve(await officer.request('Register', { name: 'leak/imported', algorithm: 'AES-256', material: kwpWrap(kek, imported).toString('base64'), unwrapKey: 'leak/kek' }))).state).toBe('executed');
    kek.fill(0);
  });

  afterAll(async () => t.stop());

  it('stores an export\'s result with its request as withheld binary', () => {
    const db = new Database(join(t.dataDir, 'keychain.db'), { readonly: true });
    try {
      for (const id of exportIds) {
        const row = db.prepare('SELECT state, result FROM approval_requests WHERE id = ?').get(id) as { state: string; result: string };
        expect(row.state).toBe('executed');
        expect(JSON.parse(row.result)).toMatchObject({ wrapped: '[binary withheld]', kcv: expect.stringMatching(/^[0-9A-F]{10}$/) });
      }
    } finally {
      db.close();
    }
    const texts = auditEventTexts(t).join('\n');
    expect(texts).toContain('"wrapMethod":"AES-KWP"');
    expect(texts).toContain('"wrapKey":"leak/kek"');
  });

  it.each([
    ['the audit trail', () => auditEventTexts(t)],
    ['the live events', () => events.map((e) => JSON.stringify(e))],
    ['the operational log', () => lines],
  ])('leaves every one of them out of %s', (_where, texts: () => string[]) => {
    const all = texts().join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const { label, bytes } of encodingsOf(secret.bytes)) expect({ what: secret.what, label, found: all.includes(bytes.toString('latin1')) }).toEqual({ what: secret.what, label, found: false });
    }
  });

  it('leaves every one of them out of every file in the data folder (keychain, WAL, logs)', () => {
    for (const secret of secrets) expect({ what: secret.what, files: filesHolding(t.dataDir, encodingsOf(secret.bytes)) }).toEqual({ what: secret.what, files: [] });
  });
});
