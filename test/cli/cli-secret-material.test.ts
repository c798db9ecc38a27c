/**
 * Issue 16, item 9 (a) and (b): a SECRET key's material, as the operator
 * supplies it. `key register` says what it stored (length, trailing newline:
 * never the bytes) and strips one trailing newline only when asked
 * (--strip-newline); `key rollover --from-file` gives a SECRET key its new
 * material the same ways, in local mode and over the wire, and without it
 * the rollover is refused naming the option. The stored bytes are read back
 * as an approved key export over the wire. Clear AES material is refused
 * while clear_key_import is off (the default: exit 10, CLEAR_IMPORT_DISABLED,
 * nothing stored); with it dual-control it is a key import: exit 12,
 * approved by two other officers after comparing its KCV.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cli, CliRun as Run, ServingCli, startServe } from '../support/cli-runner';

describe('SECRET material from the CLI: register and rollover', () => {
  let dir: string;
  let data: string;
  const local = (input: string | undefined, ...args: string[]): Run => cli(['--data', data, '--json', ...args], {}, input);

  beforeAll(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'strongroom-secret-material-'));
    data = join(dir, 'data');
    expect(cli(['--data', data, 'init', '--demo-token', '--json']).status).toBe(0);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('in local mode', () => {
    it('stores what echo gave, newline included, and says so with a warning naming --strip-newline', () => {
      const run = local('hunter2\n', 'key', 'register', 'app/echoed');
      expect(run.status).toBe(0);
      expect(run.json.stored).toEqual({ bytes: 8, endsWithNewline: true, strippedNewline: false });
      expect(run.stderr).toMatch(/^warning: .*--strip-newline/);
      expect(run.stdout + run.stderr).not.toContain('hunter2');
      const human = cli(['--data', data, 'key', 'register', 'app/echoed-human'], {}, 'hunter2\n');
      expect(human.status).toBe(0);
      expect(human.stdout).toContain('stored 8 bytes, ending with a newline');
      expect(human.stdout).not.toContain('hunter2');
    });

    it('strips exactly one trailing "\\n" or "\\r\\n" with --strip-newline, and warns about nothing then', () => {
      const lf = local('hunter2\n\n', 'key', 'register', 'app/two-newlines', '--strip-newline');
      expect(lf.json.stored).toEqual({ bytes: 8, endsWithNewline: true, strippedNewline: true });
      const crlf = local('hunter2\r\n', 'key', 'register', 'app/crlf', '--strip-newline');
      expect(crlf.json.stored).toEqual({ bytes: 7, endsWithNewline: false, strippedNewline: true });
      expect(crlf.stderr).toBe('');
      const none = local('hunter2', 'key', 'register', 'app/no-newline', '--strip-newline');
      expect(none.json.stored).toEqual({ bytes: 7, endsWithNewline: false, strippedNewline: false });
      expect(none.stderr).toBe('');
    });

    it('refuses --strip-newline with hex or base64 input (already trimmed), before anything is stored', () => {
      const run = local('68756e74657232\n', 'key', 'register', 'app/hex', '--encoding', 'hex', '--strip-newline');
      expect(run.status).toBe(2);
      expect(run.json.error.code).toBe('INVALID_ARGUMENT');
      expect(local(undefined, 'key', 'show', 'app/hex').json.error.code).toBe('KEY_NOT_FOUND');
    });

    it('refuses to roll a SECRET key over without material, naming --from-file; rolls it over with it', () => {
      const missing = local(undefined, 'key', 'rollover', 'app/echoed');
      expect(missing.status).toBe(2);
      expect(missing.json.error.code).toBe('INVALID_ARGUMENT');
      expect(missing.json.error.message).toContain('--from-file');
      expect(missing.json.error.details).toMatchObject({ option: '--from-file' });

      const file = join(dir, 'new-secret.txt');
      writeFileSync(file, 'correct horse\n', { mode: 0o600 });
      const rolled = local(undefined, 'key', 'rollover', 'app/echoed', '--from-file', file, '--strip-newline');
      expect(rolled.status).toBe(0);
      expect(rolled.json.key.currentVersion).toBe(2);
      expect(rolled.json.stored).toEqual({ bytes: 13, endsWithNewline: false, strippedNewline: true });
      const fromStdin = local('battery staple\n', 'key', 'rollover', 'app/echoed', '--from-file', '-');
      expect(fromStdin.json.key.currentVersion).toBe(3);
      expect(fromStdin.json.stored).toEqual({ bytes: 15, endsWithNewline: true, strippedNewline: false });
      expect(fromStdin.stderr).toMatch(/^warning: .*--strip-newline/);
    });

    it('refuses clear AES material (clear_key_import = off, the default) with exit 10 and the ways forward, storing nothing', () => {
      const run = local('2b7e151628aed2a6abf7158809cf4f3c\n', 'key', 'register', 'app/zmk', '-a', 'AES-128', '--encoding', 'hex');
      expect(run.status).toBe(10);
      expect(run.json.error.code).toBe('CLEAR_IMPORT_DISABLED');
      expect(run.json.error.message).toContain('--unwrap-key');
      expect(local(undefined, 'key', 'show', 'app/zmk').json.error.code).toBe('KEY_NOT_FOUND');
    });

    it('still refuses caller material for a key the appliance generates', () => {
      expect(local(undefined, 'key', 'create', 'app/aes').status).toBe(0);
      const run = local('x'.repeat(32), 'key', 'rollover', 'app/aes', '--from-file', '-');
      expect(run.status).toBe(10);
      expect(run.json.error.code).toBe('CALLER_MATERIAL_REFUSED');
      expect(local(undefined, 'key', 'show', 'app/aes').json.key.currentVersion).toBe(1);
    });
  });

  describe('over the wire', () => {
    let server: ServingCli;
    let remote: (input: string | undefined, ...args: string[]) => Run;
    let as: (officer: string, ...args: string[]) => Run;

    beforeAll(async () => {
      server = await startServe(data);
      remote = (input, ...args) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--json', ...args], {}, input);
      const certs = join(data, 'pki');
      as = (name, ...args) => cli(['--data', data, '--server', `127.0.0.1:${server.port}`, '--cert', join(certs, `${name}.crt`), '--key', join(certs, `${name}.key`), '--json', ...args]);
    });

    afterAll(async () => {
      await server?.stop();
    });

    /** The current material of `name`, as an approved key export (the way an officer reads a key). */
    const exported = (name: string): Buffer => {
      const asked = remote(undefined, 'key', 'get', name);
      expect(asked.json.error.code).toBe('APPROVAL_REQUIRED');
      const { requestId, digest } = asked.json.error.details;
      for (const officer of ['officer-2', 'officer-3']) expect(as(officer, 'approvals', 'approve', requestId, '--digest', digest).status).toBe(0);
      return Buffer.from(remote(undefined, 'approvals', 'collect', requestId).json.material, 'base64');
    };

    it('registers and rolls over a SECRET key with the material exactly as reported', () => {
      const reg = remote('s3cret\r\n', 'key', 'register', 'wire/token', '--strip-newline');
      expect(reg.status).toBe(0);
      expect(reg.json.stored).toEqual({ bytes: 6, endsWithNewline: false, strippedNewline: true });
      expect(exported('wire/token').toString('latin1')).toBe('s3cret');

      const missing = remote(undefined, 'key', 'rollover', 'wire/token');
      expect(missing.status).toBe(2);
      expect(missing.json.error.message).toContain('--from-file');

      const rolled = remote('n3w-s3cret\n', 'key', 'rollover', 'wire/token', '--from-file', '-');
      expect(rolled.status).toBe(0);
      expect(rolled.json.key.currentVersion).toBe(2);
      expect(rolled.json.stored).toEqual({ bytes: 11, endsWithNewline: true, strippedNewline: false });
      expect(rolled.stderr).toMatch(/^warning: .*--strip-newline/);
      expect(exported('wire/token').toString('latin1')).toBe('n3w-s3cret\n');
    });

    it('refuses AES material while clear_key_import is off (exit 10, no request), and with it dual-control a key import: exit 12 with the request, `approvals show` prints the KCV, and the key exists once two others approved', async () => {
      const key = '2b7e151628aed2a6abf7158809cf4f3c';
      const refused = remote(`${key}\n`, 'key', 'register', 'wire/zmk', '-a', 'AES-128', '--encoding', 'hex');
      expect(refused.status).toBe(10);
      expect(refused.json.error.code).toBe('CLEAR_IMPORT_DISABLED');
      expect(refused.json.error.message).toContain('clear_key_import = dual-control');
      expect(remote(undefined, 'approvals', 'list').json.requests.filter((r: { operation: string }) => r.operation === 'Register')).toEqual([]);

      // The operator turns clear imports on for a key ceremony; the server's start records the setting.
      await server.stop();
      server = await startServe(data, { STRONGROOM_CLEAR_KEY_IMPORT: 'dual-control' });
      const started = remote(undefined, 'audit', 'search', '--type', 'server-start').json.events as Array<{ event: { custom: Record<string, string> } }>;
      expect(started.at(-1)?.event.custom['setting.clear_key_import']).toBe('dual-control');
      const asked = remote(`${key}\n`, 'key', 'register', 'wire/zmk', '-a', 'AES-128', '--encoding', 'hex');
      expect(asked.status).toBe(12);
      expect(asked.json.error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { class: 'key-import', operation: 'Register' } });
      const { requestId, digest } = asked.json.error.details;
      const human = cli(['--data', data, '--server', `127.0.0.1:${server.port}`, 'approvals', 'show', requestId]);
      expect(human.stdout).toContain('kcv: 7AD386C376');
      expect(human.stdout).toContain('kcvKind: AES-CMAC');
      expect(human.stdout).not.toContain('sealedMaterial');
      expect(remote(undefined, 'key', 'show', 'wire/zmk').json.error.code).toBe('KEY_NOT_FOUND');
      for (const officer of ['officer-2', 'officer-3']) expect(as(officer, 'approvals', 'approve', requestId, '--digest', digest).status).toBe(0);
      expect(exported('wire/zmk').toString('hex')).toBe(key);
    });

    it('audits the rollover like a register: the operation event it committed with, and the refusal, without the material', () => {
      const events = remote(undefined, 'audit', 'search', '--operation', 'ReKey', '--key-name', 'wire/token').json.events as Array<{ event: { type: string; result: string } }>;
      expect(events.map((e) => [e.event.type, e.event.result]).sort()).toEqual([['operation', 'INVALID_ARGUMENT'], ['operation', 'ok']]);
      expect(JSON.stringify(events)).not.toContain(Buffer.from('n3w-s3cret').toString('base64'));
      expect(JSON.stringify(events)).not.toContain('n3w-s3cret');
    });
  });
});
